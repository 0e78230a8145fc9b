"""The domain core: identities, tokens, sessions, audit. Knows nothing of HTTP, pages or CLI.

Every function takes an open `sqlalchemy.Connection` inside a transaction owned by the caller,
so a refused change (an exception) rolls back whole: nothing is half-written.
"""
