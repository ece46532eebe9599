"""The domain: what the bot knows and keeps about a person and an organisation.

Profiles, self-assessments and relevance, coaching answers and goals, reminders and when a
nudge is due, the anonymous overviews, retention and export. Pure Python over the content
files; it stores through the `model.storage.docstore.DocStore` interface, never a backend.
"""
