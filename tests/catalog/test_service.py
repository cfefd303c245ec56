"""Catalog rules at the service level."""

from app.catalog import service as catalog
from app.catalog.schemas import MatterUpdate
from app.core.auth import SYSTEM
from tests import factories
from tests.conftest import DEMO_DATA


async def test_demo_seed_only_fills_an_empty_database(cache):
    assert await catalog.seed_demo(DEMO_DATA, cache=cache) is None


async def test_search_reads_material_names_of_the_current_version_only(cache):
    created = await factories.matter(
        cache, materials=[{"name": "猕猴桃专用证明", "required": True, "form": "original"}]
    )
    found, total = await catalog.search_matters(q="猕猴桃专用证明")
    assert total == 1 and found[0]["id"] == created["id"]

    update = MatterUpdate.model_validate(factories.guide_payload(created["department_id"]))
    await catalog.update_matter(created["id"], update, actor=SYSTEM, cache=cache, ttl=60)
    _, total_after = await catalog.search_matters(q="猕猴桃专用证明")
    assert total_after == 0


async def test_cached_current_guide_is_replaced_on_edit(cache):
    created = await factories.matter(cache)
    first = await catalog.get_guide(created["id"], cache=cache, ttl=60)
    update = MatterUpdate.model_validate(factories.guide_payload(created["department_id"], promised_days=2))
    await catalog.update_matter(created["id"], update, actor=SYSTEM, cache=cache, ttl=60)
    second = await catalog.get_guide(created["id"], cache=cache, ttl=60)
    assert (first["version"], first["promised_days"]) == (1, 5)
    assert (second["version"], second["promised_days"]) == (2, 2)
