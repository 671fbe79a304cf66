"""Form helpers shared across the app."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms import SelectChoice


def choices(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """Select options from ``(value, label)`` pairs (labels may be lazy strings)."""
    return [SelectChoice(value, label) for value, label in pairs]
