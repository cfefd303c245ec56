"""The statistics service: what a crowd asking the same uncached report costs the database."""

import asyncio

from app.ratings import service as ratings
from app.stats import service as stats
from tests import factories as f


async def test_a_crowd_asking_one_uncached_report_shares_one_computation(client, cache, monkeypatch):
    department = await f.department(cache)
    computed = 0
    real_figures = ratings.figures

    async def counted_figures(**kwargs):
        nonlocal computed
        computed += 1
        await asyncio.sleep(0.05)  # long enough for the whole crowd to arrive while it runs
        return await real_figures(**kwargs)

    monkeypatch.setattr(ratings, "figures", counted_figures)
    answers = await asyncio.gather(
        *(
            stats.report(
                "departments",
                date_from="2026-02-02",
                date_to="2026-02-02",
                only_id=department["id"],
                cache=cache,
                cache_seconds=60,
                catalog_ttl=0,
            )
            for _ in range(5)
        )
    )
    assert computed == 1
    assert [answer["items"][0]["department_id"] for answer in answers] == [department["id"]] * 5
    # Once cached, a later asker costs nothing either.
    await stats.report(
        "departments",
        date_from="2026-02-02",
        date_to="2026-02-02",
        only_id=department["id"],
        cache=cache,
        cache_seconds=60,
        catalog_ttl=0,
    )
    assert computed == 1
