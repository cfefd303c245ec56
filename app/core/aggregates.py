"""Grouped counts for the published statistics: one GROUP BY scan per base query, each figure a filtered COUNT."""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet


async def figures_by(key: str, rows: QuerySet, figures: dict[str, Q | None], *,
                     only: Any = None) -> dict[Any, dict[str, int]]:
    """{group: {figure: count}} over rows grouped by key (or only one group); each figure counts the rows its
    condition picks (None: all)."""
    # Annotations are named apart from the model's fields: one named like a field its own condition reads
    # (fix_on_time) would resolve to itself.
    counted = {f"figure_{name}": Count("id", _filter=condition) for name, condition in figures.items()}
    rows = rows.filter(**{f"{key}__isnull": False} if only is None else {key: only})
    found = await rows.annotate(**counted).group_by(key).values(key, *counted)
    return {row[key]: {name: row[f"figure_{name}"] or 0 for name in figures} for row in found}
