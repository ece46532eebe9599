"""Bot Framework SDK internals and speed-ups: the adapter, the pooled reply path, the activity
codec and dialog-state storage. This is the part a move to the Microsoft 365 Agents SDK
deletes rather than ports; nothing here knows the product."""
