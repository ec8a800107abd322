"""How typed text is compared with names, ids and messages (search box, alarm filter)."""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """The form text is compared in: NFKC (full- and half-width alike), case-folded,
    spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())
