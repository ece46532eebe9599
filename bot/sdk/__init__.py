"""Bot Framework SDK internals and speed-ups: the adapter, the pooled reply path, the activity
codec and dialog-state storage. This is the part a move to the Microsoft 365 Agents SDK
deletes rather than ports. Nothing here knows the product: of the project it imports only
the storage interface (`model.storage.docstore`), which `tests/house/test_architecture.py` checks."""
