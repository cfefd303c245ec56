"""OpenAPI helpers so every route documents its body, its response and the shared error shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sanic_ext.extensions.openapi import openapi
from sanic_ext.extensions.openapi.definitions import Response


class ErrorDetail(BaseModel):
    code: str
    message: str
    request_id: str | None
    details: dict | None = None


class ErrorOut(BaseModel):
    error: ErrorDetail


def doc(summary: str, *, tag: str, body: type[BaseModel] | None = None, response: Any = None, status: int = 200,
        errors: tuple[int, ...] = (400, 422), secured: bool = False, query: type[BaseModel] | None = None):
    """Document a route: summary, tag, JSON body and response schemas, the error statuses it may answer."""
    responses = []
    if response is not None:
        responses.append(Response({"application/json": response}, status=status))
    for error_status in errors:
        responses.append(Response({"application/json": ErrorOut}, status=error_status))
    kwargs: dict[str, Any] = {"summary": summary, "tag": tag, "response": responses}
    if body is not None:
        kwargs["body"] = {"application/json": body}
    if secured:
        kwargs["secured"] = {"bearer": []}
    decorators = [openapi.definition(**kwargs)]
    if query is not None:
        for name, field in query.model_fields.items():
            decorators.append(openapi.parameter(field.alias or name, _python_type(field.annotation), "query",
                                                description=field.description or ""))

    def wrap(handler):
        for decorator in reversed(decorators):
            handler = decorator(handler)
        return handler

    return wrap


def _python_type(annotation: Any) -> type:
    for candidate in (bool, int, str):
        if annotation is candidate or candidate in getattr(annotation, "__args__", ()):
            return candidate
    return str
