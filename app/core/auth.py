"""Login tokens (opaque, kept in the cache with an expiry) and the guards routes put in front of handlers."""

from __future__ import annotations

import contextvars
import json
import secrets
import time
from dataclasses import dataclass, field, replace
from functools import wraps

from sanic import Request

from app.core.cache import Cache
from app.core.crypto import token_digest
from app.core.errors import Forbidden, RateLimited, Unauthorized

CITIZEN = "citizen"
STAFF = "staff"
SYSTEM_KIND = "system"
# Roles that see every department.
ALL_DEPARTMENT_ROLES = frozenset({"supervisor", "admin"})


@dataclass(frozen=True)
class Principal:
    """Who is calling: a citizen, or a staff member with roles and a department."""

    kind: str
    id: int
    roles: tuple[str, ...] = ()
    department_id: int | None = None
    name: str = ""
    token: str = field(default="", repr=False, compare=False)

    @property
    def is_staff(self) -> bool:
        return self.kind == STAFF

    @property
    def sees_all_departments(self) -> bool:
        return bool(ALL_DEPARTMENT_ROLES.intersection(self.roles))

    def has_role(self, *roles: str) -> bool:
        return bool(set(roles).intersection(self.roles))

    def covers_department(self, department_id: int | None) -> bool:
        """Whether this staff member may see or act on the department's objects."""
        return self.sees_all_departments or (department_id is not None and department_id == self.department_id)

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.id}"


# Who acts when no person does (demo seed, command line): an admin of every department.
SYSTEM = Principal(kind="system", id=0, roles=("admin",), name="system")


def _session_key(token: str, digest: str | None = None) -> str:
    return f"session:{digest or token_digest(token)}"


async def issue_token(cache: Cache, principal: Principal, ttl_seconds: int) -> str:
    """A new opaque token for this principal."""
    token = secrets.token_urlsafe(32)
    payload = {
        "kind": principal.kind,
        "id": principal.id,
        "roles": list(principal.roles),
        "department_id": principal.department_id,
        "name": principal.name,
        "iat": time.time(),
        "exp": time.time() + ttl_seconds,
    }
    await cache.set(_session_key(token), json.dumps(payload), ttl_seconds)
    return token


def _staff_ended_before_key(staff_id: int) -> str:
    return f"session:ended-before:staff:{staff_id}"


async def end_staff_sessions(cache: Cache, staff_id: int, ttl_seconds: int) -> None:
    """End every session of one staff member issued until now (roles, department, password changed or account
    closed): at once in this process, within security.token_memo_seconds in the others."""
    # Kept as long as a token lives: by then every token issued before it has expired anyway.
    await cache.set(_staff_ended_before_key(staff_id), repr(time.time()), ttl_seconds)
    for digest, (_, principal) in list(_memo.items()):
        if principal.kind == STAFF and principal.id == staff_id:
            _memo.pop(digest, None)


async def repoint_token(cache: Cache, token: str, citizen_id: int, ttl_seconds: int) -> None:
    """Make an existing citizen token belong to another citizen row (after two accounts became one)."""
    _memo.pop(token_digest(token), None)
    await cache.set(
        _session_key(token),
        json.dumps(
            {
                "kind": CITIZEN,
                "id": citizen_id,
                "roles": [],
                "department_id": None,
                "name": "",
                "exp": time.time() + ttl_seconds,
            }
        ),
        ttl_seconds,
    )


async def revoke_token(cache: Cache, token: str) -> None:
    """End a session: at once in this process, within security.token_memo_seconds in the others."""
    _memo.pop(token_digest(token), None)
    await cache.delete(_session_key(token))


# Tokens this process resolved lately: digest -> (good until, epoch seconds; principal). Saves the cache round trip
# on every request of a busy client; never outlives the token itself.
_memo: dict[str, tuple[float, Principal]] = {}
_MEMO_LIMIT = 100_000


async def resolve_token(cache: Cache, token: str, memo_seconds: float = 0) -> Principal | None:
    """The principal of a live token, or None."""
    digest = token_digest(token)
    now = time.time()
    remembered = _memo.get(digest)
    if remembered is not None and remembered[0] > now:
        return replace(remembered[1], token=token)
    raw = await cache.get(_session_key(token, digest))
    if raw is None:
        _memo.pop(digest, None)
        return None
    data = json.loads(raw)
    expires_at = data.get("exp", float("inf"))
    if expires_at <= now:
        return None
    if data["kind"] == STAFF:
        # Staff sessions can be ended all at once; a citizen's never are, so their requests pay nothing for it.
        ended_before = await cache.get(_staff_ended_before_key(data["id"]))
        if ended_before is not None and data.get("iat", 0) <= float(ended_before):
            return None
    principal = Principal(
        kind=data["kind"],
        id=data["id"],
        roles=tuple(data.get("roles") or ()),
        department_id=data.get("department_id"),
        name=data.get("name") or "",
        token=token,
    )
    if memo_seconds > 0:
        if len(_memo) >= _MEMO_LIMIT:
            _memo.clear()
        _memo[digest] = (min(now + memo_seconds, expires_at), principal)
    return principal


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 256:
        return None
    return token


async def authenticate(request: Request) -> Principal:
    """The caller of this request, or 401."""
    token = bearer_token(request)
    memo_seconds = request.app.ctx.settings.security.token_memo_seconds
    principal = await resolve_token(request.app.ctx.cache, token, memo_seconds) if token else None
    if principal is None:
        raise Unauthorized("登录已失效，请重新登录" if token else "请先登录")
    request.ctx.principal = principal
    return principal


def citizen_required(handler):
    """Only a logged-in citizen; staff tokens get 403."""

    @wraps(handler)
    async def guarded(request: Request, *args, **kwargs):
        principal = await authenticate(request)
        if principal.kind != CITIZEN:
            raise Forbidden("此功能仅对办事群众开放")
        return await handler(request, *args, **kwargs)

    return guarded


def staff_required(*roles: str):
    """Only logged-in staff holding one of these roles (any staff when none are named)."""

    def decorate(handler):
        @wraps(handler)
        async def guarded(request: Request, *args, **kwargs):
            principal = await authenticate(request)
            if principal.kind != STAFF or (roles and not principal.has_role(*roles)):
                raise Forbidden()
            return await handler(request, *args, **kwargs)

        return guarded

    return decorate


def client_ip(request: Request) -> str:
    """The caller's address (behind a proxy, Sanic's forwarded settings decide what counts)."""
    return request.remote_addr or request.ip or "unknown"


# The rate-limit buckets this request counted against, so an outage answer can give them back.
counted_buckets: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("counted_buckets", default=None)


async def limit_rate(cache: Cache, bucket: str, limit: int, window_seconds: int = 60) -> None:
    """429 once a bucket has seen more than limit hits in its window."""
    count = await cache.incr(f"ratelimit:{bucket}", window_seconds)
    counted = counted_buckets.get()
    if counted is not None:
        counted.append(bucket)
    if count > limit:
        retry_after = await cache.ttl(f"ratelimit:{bucket}") or window_seconds
        raise RateLimited(headers={"Retry-After": str(retry_after)}, details={"retry_after_seconds": retry_after})


async def uncount_rate(cache: Cache, buckets: list[str]) -> None:
    """Give back the hits of a request that our own outage failed: the citizen did not use them."""
    for bucket in buckets:
        try:
            await cache.incr_if_exists(f"ratelimit:{bucket}", -1)
        except Exception:  # noqa: BLE001 - the cache may be the part that is down; then there is nothing to give back
            return
