"""The use cases: each takes a database session and plain values; callers own the transaction."""
