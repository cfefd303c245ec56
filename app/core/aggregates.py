"""Grouped counts for the published statistics: one GROUP BY scan per base query, each figure a filtered COUNT."""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Expression, Q
from tortoise.functions import Count
from tortoise.queryset import QuerySet


async def figures_by(
    key: str, rows: QuerySet, figures: dict[str, Q | Expression | None], *, only: Any = None
) -> dict[Any, dict[str, Any]]:
    """{group: {figure: value}} over rows grouped by key (only some groups: see only_filter); a figure counts the
    rows its condition picks (None: all) or is an aggregate expression of its own (a sum)."""
    # Annotations are named apart from the model's fields: one named like a field its own condition reads
    # (fix_on_time) would resolve to itself.
    counted = {
        f"figure_{name}": Count("id", _filter=figure) if figure is None or isinstance(figure, Q) else figure
        for name, figure in figures.items()
    }
    rows = rows.filter(**only_filter(key, only))
    found = await rows.annotate(**counted).group_by(key).values(key, *counted)
    return {row[key]: {name: row[f"figure_{name}"] or 0 for name in figures} for row in found}


def only_filter(key: str, only: Any) -> dict[str, Any]:
    """The filter keeping every group (None), one group (a value) or some groups (a list)."""
    if only is None:
        return {f"{key}__isnull": False}
    return {f"{key}__in": list(only)} if isinstance(only, (list, tuple)) else {key: only}


def days_between(earlier: str, later: str, dialect: str) -> str:
    """SQL for the days (with fraction) from one datetime column to another, in the database's own dialect."""
    if dialect == "sqlite":
        return f"julianday({later}) - julianday({earlier})"
    return f"EXTRACT(EPOCH FROM ({later} - {earlier})) / 86400"
