"""Grouped counts for the published statistics: one GROUP BY per figure, folded into one dict per group."""

from __future__ import annotations

from typing import Any

from tortoise.functions import Count
from tortoise.queryset import QuerySet


async def count_by(query: QuerySet, key: str) -> dict[Any, int]:
    """How many rows of the query fall in each value of key (rows without one left out)."""
    rows = await query.filter(**{f"{key}__isnull": False}).annotate(n=Count("id")).group_by(key).values(key, "n")
    return {row[key]: row["n"] for row in rows}


async def figures_by(key: str, queries: dict[str, QuerySet]) -> dict[Any, dict[str, int]]:
    """{group: {figure: count}} for named queries, each counted per value of key; absent figures are absent."""
    found: dict[Any, dict[str, int]] = {}
    for name, query in queries.items():
        for group, n in (await count_by(query, key)).items():
            found.setdefault(group, {})[name] = n
    return found
