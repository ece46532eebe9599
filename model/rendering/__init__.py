"""Rendering: pictures and files made from figures a caller hands over (a person's wheel
picture, the anonymous overview as HTML). Reads texts from `model.content`; never storage.
"""
