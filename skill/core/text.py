"""Text folded for comparison: the one rule every matcher starts from (width and case)."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """``text`` with full- and half-width forms made one (NFKC) and case folded."""
    return unicodedata.normalize("NFKC", text).casefold()
