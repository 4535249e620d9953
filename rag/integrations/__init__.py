"""Adapters to other frameworks, each imported only by code that uses it."""
