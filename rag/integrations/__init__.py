"""Adapters that let other frameworks use an index and the answer path (each imports its framework itself)."""
