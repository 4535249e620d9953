"""The one base of every error the library raises on purpose: `except RagError` catches them all, and each
message says in plain words what to change."""

from __future__ import annotations


class RagError(Exception):
    """Base of the library's errors (bad questions or filters, a missing index or model, a dead endpoint)."""
