"""What every endpoint shares: request ids, access log, body parsing into schemas, pagination, JSON answers shaped by
the route's response model."""

from __future__ import annotations

import logging
import re
import time
import uuid
import weakref
from collections import OrderedDict
from functools import cache, partial
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, Strict, TypeAdapter, ValidationError
from sanic import Request, Sanic
from sanic.exceptions import BadRequest as SanicBadRequest
from sanic.helpers import json_dumps
from sanic.response import HTTPResponse, JSONResponse, json

from app.core import metrics
from app.core.auth import counted_buckets, uncount_rate
from app.core.errors import (
    RETRY_AFTER_SECONDS,
    BadRequest,
    MalformedJson,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
    error_body,
)
from app.core.logging import request_id_var
from app.core.view_memo import forget_after_write

access_log = logging.getLogger("app.access")
Schema = TypeVar("Schema", bound=BaseModel)
Item = TypeVar("Item")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

MAX_PAGE_SIZE = 100

# Every JSON answer (routes, errors, /sim) as UTF-8 text: 办事指南, not \u529e\u4e8b... Given to Sanic(dumps=).
dumps = partial(json_dumps, ensure_ascii=False)


def install_request_context(app: Sanic, *, access_log_enabled: bool, max_in_flight: int) -> None:
    """Give every request an id (echoed as X-Request-ID), shed load past max_in_flight, log one line per request."""
    # Weak: a request whose client hung up (its handler cancelled, no response middleware) leaves by itself.
    in_flight: weakref.WeakSet[Request] = weakref.WeakSet()
    app.ctx.in_flight = in_flight
    app.ctx.max_in_flight = max_in_flight

    @app.on_request(priority=100)
    async def _start(request: Request):
        incoming = request.headers.get("x-request-id", "")
        request.ctx.request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.ctx.started_at = time.perf_counter()
        request_id_var.set(request.ctx.request_id)
        counted_buckets.set([])
        check_path_parameters(request)
        if len(in_flight) >= request.app.ctx.max_in_flight:
            metrics.SHED.inc()
            # Answer at once rather than queue without bound: the client retries, the ones in progress finish.
            return json(
                error_body(ServiceUnavailable.code, "当前访问人数较多，请稍后再试", request.ctx.request_id),
                status=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        in_flight.add(request)
        return None

    @app.on_response(priority=100)
    async def _finish(request: Request, response) -> None:
        in_flight.discard(request)
        forget_after_write(request)
        if getattr(request.ctx, "dependency_failed", False):
            await uncount_rate(request.app.ctx.cache, counted_buckets.get() or [])
        request_id = getattr(request.ctx, "request_id", None)
        if request_id and response is not None:
            response.headers["X-Request-ID"] = request_id
        if response is None:
            return
        elapsed = time.perf_counter() - getattr(request.ctx, "started_at", time.perf_counter())
        route = metrics.route_label(request)
        metrics.observe_request(request.method, route, response.status, elapsed, len(in_flight))
        if access_log_enabled:
            # The path only: query strings may carry personal data, and headers (tokens) are never logged.
            access_log.info(
                "%s %s %s %.1fms",
                request.method,
                request.path,
                response.status,
                elapsed * 1000,
                extra={
                    "http": {
                        "method": request.method,
                        "route": route,
                        "path": request.path,
                        "status": response.status,
                        "duration_ms": round(elapsed * 1000, 1),
                    }
                },
            )


# Ids are int4 columns on PostgreSQL (a few tables use int8: their routes say so with ctx_big_ids=True).
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# Integers of requests are bounded by their column at the edge, so a value the database cannot hold is a 422 naming
# the field and never reaches a query. Query strings are text, so their ids coerce ("5"); JSON bodies take only
# JSON integers (Strict*), never "5" or 5.0.
Id = Annotated[int, Field(ge=1, le=INT32_MAX)]
# Ids of the int8 tables (inbox messages, deliveries, audit, outbox); their path ids say so with ctx_big_ids=True.
BigId = Annotated[int, Field(ge=1, le=INT64_MAX)]
StrictId = Annotated[int, Strict(), Field(ge=1, le=INT32_MAX)]
# Money in integer fen (int4 columns): at most 一亿分 (one million yuan) per amount, so that the sum of the 20 fees
# a guide may list (a case's amount_fen) stays inside the column too.
MAX_FEN = 100_000_000
Fen = Annotated[int, Strict(), Field(ge=0, le=MAX_FEN)]
PositiveFen = Annotated[int, Strict(), Field(gt=0, le=MAX_FEN)]
# A row version (optimistic locking, an int4 column).
StrictVersion = Annotated[int, Strict(), Field(ge=1, le=INT32_MAX)]


def check_path_parameters(request: Request) -> None:
    """A path id past its column's range names nothing (404); path text with NUL or a lone surrogate is a 422."""
    route = getattr(request, "route", None)
    if route is None:
        return
    largest = INT64_MAX if getattr(route.ctx, "big_ids", False) else INT32_MAX
    for name, value in request.match_info.items():
        if isinstance(value, int) and not 0 <= value <= largest:
            raise NotFound()
        if isinstance(value, str):
            refuse_unsafe_text(value, name)


def json_body(request: Request) -> Any:
    """The parsed JSON body, or a clear 400 when it is not JSON."""
    if not request.body:
        return None
    try:
        return request.json
    except SanicBadRequest:
        raise MalformedJson() from None


def _validation_details(error: ValidationError) -> dict:
    fields = []
    for item in error.errors():
        location = ".".join(str(part) for part in item["loc"]) or "body"
        fields.append({"field": location, "message": item["msg"], "type": item["type"]})
    return {"fields": fields}


# NUL (refused by PostgreSQL's text) and lone UTF-16 surrogates (not encodable as UTF-8): never legitimate text.
_UNSAFE_TEXT = re.compile("[\x00\ud800-\udfff]")
UNSAFE_TEXT_MESSAGE = "不能包含空字符或无效的 Unicode 字符"


def unsafe_text_field(data: Any, location: str = "") -> str | None:
    """The location (a.b.0) of the first key or string holding NUL or a lone surrogate, None when all are clean."""
    if isinstance(data, str):
        return (location or "body") if _UNSAFE_TEXT.search(data) else None
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return None
    for key, value in items:
        here = f"{location}.{key}" if location else str(key)
        if isinstance(key, str) and _UNSAFE_TEXT.search(key):
            return here
        found = unsafe_text_field(value, here)
        if found:
            return found
    return None


def refuse_unsafe_text(data: Any, location: str = "") -> None:
    """422 naming the field when any text of the input holds NUL or a lone surrogate."""
    field = unsafe_text_field(data, location)
    if field:
        raise ValidationFailed(
            details={"fields": [{"field": field, "message": UNSAFE_TEXT_MESSAGE, "type": "string_unsafe"}]}
        )


def parse(schema: type[Schema], data: Any) -> Schema:
    """Validate data against a schema; 422 with the failing fields in details."""
    refuse_unsafe_text(data)
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(details=_validation_details(exc)) from None


def parse_body(request: Request, schema: type[Schema]) -> Schema:
    """Parse the JSON object body of a request into a schema."""
    data = json_body(request)
    if not isinstance(data, dict):
        raise BadRequest("请求体必须是 JSON 对象")
    return parse(schema, data)


def parse_query(request: Request, schema: type[Schema]) -> Schema:
    """Parse query parameters (last value wins) into a schema."""
    data = {key: values[-1] for key, values in request.args.items()}
    return parse(schema, data)


IDEMPOTENCY_KEY_MAX = 80


def idempotency_key(request: Request) -> str | None:
    """The Idempotency-Key header of a creating POST (400 when absurdly long)."""
    key = request.headers.get("idempotency-key", "").strip()
    if len(key) > IDEMPOTENCY_KEY_MAX:
        raise BadRequest(f"Idempotency-Key 不能超过 {IDEMPOTENCY_KEY_MAX} 个字符")
    return key or None


def page_of(items: list, total: int, page: int, page_size: int) -> dict:
    """The API.md list shape."""
    return {"items": items, "total": total, "page": page, "page_size": page_size}


class Page(BaseModel, Generic[Item]):
    """The API.md list shape; each list has its own named subclass (`class MatterPageOut(Page[MatterOut])`)."""

    items: list[Item]
    total: int
    page: int
    page_size: int


def _without_default(schema: dict) -> None:
    schema.pop("default", None)


def omitted(description: str) -> Any:
    """A response field only some views carry: absent from the others, never null."""
    return Field(None, description=description, json_schema_extra=_without_default)


@cache
def response_adapter(shape: Any) -> TypeAdapter:
    """One validator and serialiser per response shape (a model, or list[...] / dict[str, ...] of one)."""
    return TypeAdapter(shape)


def respond(shape: Any, data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    """Answer data as the route's response model shapes it: validated, by alias, nothing the model does not name."""
    # Optional fields the service left out stay out (a citizen's view has no staff-only keys). A result that does not
    # fit its model is our bug: it ends as a logged 500 rather than as a body the document does not describe.
    adapter = response_adapter(shape)
    body = adapter.dump_python(adapter.validate_python(data), mode="json", by_alias=True, exclude_unset=True)
    return json(body, status=status, headers=headers)


# Bodies of results that a memo hands out many times (the same object each time, never changed once handed out), by
# that object's identity; the entry holds the object, so its id cannot be reused while the body is kept.
_REMEMBERED_BODIES = 256
_remembered_bodies: OrderedDict[int, tuple[Any, bytes]] = OrderedDict()


def respond_remembered(shape: Any, data: Any) -> HTTPResponse:
    """respond() for a result a memo hands out again and again: shaped and encoded once per object, not per request."""
    entry = _remembered_bodies.get(id(data))
    if entry is not None and entry[0] is data:
        return HTTPResponse(entry[1], content_type="application/json")
    response = respond(shape, data)
    _remembered_bodies[id(data)] = (data, response.body)
    if len(_remembered_bodies) > _REMEMBERED_BODIES:
        _remembered_bodies.popitem(last=False)
    return response


class PageQuery(BaseModel):
    """?page=&page_size= of every list endpoint."""

    model_config = ConfigDict(extra="ignore")
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(20, ge=1, le=MAX_PAGE_SIZE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size
