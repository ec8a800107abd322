"""Persistence: the offline cache (SQLite), its schema and migrations, and exports."""
