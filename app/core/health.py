"""GET /healthz: is the database and the cache answering, and is every server worker of this node serving."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from pydantic import BaseModel
from sanic import Blueprint, Request

from app.core.db import ping_db
from app.core.http import respond
from app.core.openapi import doc
from app.core.watchdog import workers_state

log = logging.getLogger("app.health")
bp = Blueprint("health")


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    db: Literal["ok", "down"]
    cache: Literal["ok", "down"]
    workers: Literal["ok", "down"]


async def _check(name: str, probe) -> str:
    try:
        await asyncio.wait_for(probe(), timeout=2)
        return "ok"
    except Exception as exc:  # any failure of a dependency is a "down", reported, never raised
        log.warning("health: %s is down: %s", name, exc.__class__.__name__)
        return "down"


@bp.get("/healthz")
@doc(
    "健康检查：数据库与缓存（503 时指明哪一部分不可用）",
    tag="health",
    response=HealthOut,
    responses={503: HealthOut},
    errors=(),
)
async def healthz(request: Request):
    db_state = await _check("db", ping_db)
    cache_state = await _check("cache", request.app.ctx.cache.ping)
    workers = workers_state(request.app)
    healthy = db_state == "ok" and cache_state == "ok" and workers == "ok"
    body = {"status": "ok" if healthy else "degraded", "db": db_state, "cache": cache_state, "workers": workers}
    return respond(HealthOut, body, status=200 if healthy else 503)
