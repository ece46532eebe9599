"""Operator tools: the command line (`python app.py <command>`) and the Teams app package."""
