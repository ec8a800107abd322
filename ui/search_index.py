"""Matching for the search box and the command palette (plain Python, no Qt).

Text is compared after Unicode NFKC normalisation and case folding, so full-width and
half-width forms of letters and digits, and upper and lower case, match; Chinese names
match by substring.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from widgets.text_match import fold

MAX_RESULTS = 50


class HitKind(enum.StrEnum):
    """What a search result stands for."""

    ENTITY = "entity"
    ALARM = "alarm"
    ACTION = "action"


@dataclass(frozen=True, slots=True)
class SearchItem:
    """One thing that can be found: shown as ``label``, found by any of ``keys``."""

    kind: HitKind
    key: str
    label: str
    keys: tuple[str, ...]
    detail: str = ""


def search(query: str, items: Iterable[SearchItem], limit: int = MAX_RESULTS) -> list[SearchItem]:
    """Items matching every word of ``query``, best first: a key that starts with the
    query, then a word of a key that does, then a substring anywhere. An empty query
    matches nothing."""
    words = fold(query).split()
    if not words:
        return []
    whole = " ".join(words)
    ranked: list[tuple[int, int, str, SearchItem]] = []
    for order, item in enumerate(items):
        folded = [fold(key) for key in item.keys if key]
        if not all(any(word in key for key in folded) for word in words):
            continue
        if any(key.startswith(whole) for key in folded):
            rank = 0
        elif any(part.startswith(words[0]) for key in folded for part in key.split()):
            rank = 1
        else:
            rank = 2
        ranked.append((rank, order, item.label, item))
    ranked.sort(key=lambda entry: (entry[0], entry[1]))
    return [entry[3] for entry in ranked[:limit]]
