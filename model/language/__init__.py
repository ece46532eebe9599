"""Language: reading what a person typed (topic, intent, job title, language, a chosen
option; a second opinion by meaning when the vocabulary is unsure) and checking that a
Danish text reads plainly (LIX). Knows words, not people: it imports nothing of the
domain, storage or rendering.
"""
