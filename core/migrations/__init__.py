"""Alembic migrations of innoplat's core tables, shipped in the package."""
