"""Storage: the `DocStore` interface (documents by collection and key, ETags) and its
backends (TinyDB files, Azure Blob Storage, memory), the nudge sender's leader election
and the copy between backends. Knows documents, not what they mean: it imports nothing
of the domain, language or rendering.
"""
