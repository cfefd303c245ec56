"""The contract the front ends' generated clients rely on: every route of the app is in /openapi.json with its
schemas, and every response recorded while the suite ran (tests/openapi_recorder.py) is what the document says.

Runs last (the recorder orders it). Excluded, each for its reason (EXCLUDED_PREFIXES, EXCLUDED_PATHS): the /sim
platform simulator, /openapi.json and /docs, and the built front ends at /console and /m/.
"""

from __future__ import annotations

import copy
import json

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app.core.openapi import path_template
from tests.openapi_recorder import RECORDED, RUN

EXCLUDED_PREFIXES = {
    "/sim/": "the platform simulator stands in for the WeChat, WeChat Pay, WeChat Work and Alipay servers: it speaks "
    "their formats, not our contract, and is off in production",
    "/docs/": "Swagger UI's own files (CSS, script, icon) for the /docs page",
    "/console/": "the staff console's static build (app/core/frontends.py): files and the single-page fallback, not "
    "operations of the API; tests/core/test_frontends.py covers them",
    "/m/": "the citizen app's H5 build, as /console/",
}
EXCLUDED_PATHS = {
    "/openapi.json": "the document itself",
    "/docs": "the HTML page that shows the document",
    "/console": "the staff console's entry page (see /console/ above)",
    "/m": "the citizen app's entry page (see /m/ above)",
    "/metrics": "Prometheus' text format for operators (allowed networks or a token), no operation of the API; "
    "tests/core/test_metrics.py covers it",
}
# sanic-ext answers these for every path by itself; they are no operations of ours.
AUTOMATIC_METHODS = {"HEAD", "OPTIONS"}
# Successes that carry no body on purpose.
WITHOUT_CONTENT = {
    ("DELETE", "/api/v1/cases/{case_id}/materials/{file_id}"): "204: the file is gone",
    ("DELETE", "/api/v1/cases/{case_id}/licences/{licence_id}"): "204: the licence no longer stands for it",
    ("POST", "/api/v1/pay/notify/wechat"): "WeChat Pay takes an empty 200 as received",
}
DOCUMENT_URN = "urn:govhall:openapi"


def _excluded(path: str) -> bool:
    return path in EXCLUDED_PATHS or path.startswith(tuple(EXCLUDED_PREFIXES))


def _operations(app) -> list[tuple[str, str]]:
    return sorted(
        {
            (method, path_template(route.path))
            for route in app.router.routes
            for method in route.methods - AUTOMATIC_METHODS
            if not _excluded(path_template(route.path))
        }
    )


def _no_undocumented_fields(node):
    """The document lets clients tolerate added fields; the contract does not let us add them silently."""
    if isinstance(node, list):
        return [_no_undocumented_fields(item) for item in node]
    if not isinstance(node, dict):
        return node
    strict = {key: _no_undocumented_fields(value) for key, value in node.items()}
    if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
        strict["additionalProperties"] = False
    return strict


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


@pytest.fixture
async def document(client) -> dict:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def _response_of(document: dict, method: str, path: str, status: int) -> tuple[dict, str] | None:
    """The documented response for a status (or the default), and its JSON pointer in the document."""
    responses = document["paths"][path][method.lower()]["responses"]
    key = str(status) if str(status) in responses else "default" if "default" in responses else None
    if key is None:
        return None
    pointer = f"/paths/{_escape(path)}/{method.lower()}/responses/{key}"
    response = responses[key]
    if "$ref" in response:
        pointer = "/" + response["$ref"].removeprefix("#/")
        response = document
        for part in pointer.strip("/").split("/"):
            response = response[part.replace("~1", "/").replace("~0", "~")]
    return response, pointer


def test_every_route_is_documented_with_its_schemas(app, document):
    problems = []
    for method, path in _operations(app):
        operation = document["paths"].get(path, {}).get(method.lower())
        if operation is None:
            problems.append(f"{method} {path}: not in the document")
            continue
        successes = [status for status in operation["responses"] if status.startswith("2")]
        if not successes:
            problems.append(f"{method} {path}: no success response")
        for status in successes:
            content = operation["responses"][status].get("content")
            if (method, path) in WITHOUT_CONTENT:
                if content:
                    problems.append(f"{method} {path}: {status} has content, but answers none")
            elif not content or not all("schema" in media for media in content.values()):
                problems.append(f"{method} {path}: {status} without a response schema")
        took_json = any(
            exchange.request_had_json
            for (m, p, _), exchanges in RECORDED.items()
            if (m, p) == (method, path)
            for exchange in exchanges
        )
        body = operation.get("requestBody", {}).get("content", {})
        if took_json and "schema" not in body.get("application/json", {}):
            problems.append(f"{method} {path}: takes a JSON body, none documented")
    assert not problems, "\n".join(problems)


def _check(validator_for, document: dict, method: str, path: str, status: int, exchange) -> str | None:
    found = _response_of(document, method, path, status)
    if found is None or (
        200 <= status < 300 and str(status) not in document["paths"][path][method.lower()]["responses"]
    ):
        return f"{method} {path} {status}: status not documented"
    response, pointer = found
    content = response.get("content", {})
    media_type = exchange.content_type.split(";")[0].strip()
    if exchange.body is not None and not exchange.body:
        return None if not content or status == 204 else f"{method} {path} {status}: empty body, content documented"
    if media_type not in content:
        return f"{method} {path} {status}: {media_type or 'no media type'} not among {sorted(content)}"
    if exchange.body is None:  # binary: its media type is all there is to check
        return None
    text = exchange.body.decode("utf-8")
    instance = json.loads(text) if media_type == "application/json" else text
    schema_ref = f"{DOCUMENT_URN}#{pointer}/content/{_escape(media_type)}/schema"
    errors = sorted(validator_for(schema_ref).iter_errors(instance), key=lambda error: list(error.absolute_path))
    if errors:
        where = "/".join(str(part) for part in errors[0].absolute_path)
        return f"{method} {path} {status}: {errors[0].message} at /{where} (body {text[:300]})"
    return None


def test_every_recorded_response_is_what_the_document_says(document):
    strict = _no_undocumented_fields(copy.deepcopy(document))
    registry = Registry().with_resource(DOCUMENT_URN, Resource.from_contents(strict, default_specification=DRAFT202012))

    def validator_for(schema_ref: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": schema_ref}, registry=registry)

    assert RECORDED, "the recorder saw no response (is it installed on the test app?)"
    problems = []
    for (method, path, status), exchanges in sorted(RECORDED.items()):
        if _excluded(path) or method in AUTOMATIC_METHODS:
            continue
        for exchange in exchanges:
            problem = _check(validator_for, document, method, path, status, exchange)
            if problem:
                problems.append(problem)
                break
    assert not problems, "\n".join(problems)


def test_every_route_answered_a_success_while_the_suite_ran(app):
    if not RUN["whole_suite"]:
        pytest.skip("only a run of the whole suite (no -k, -m or path selection) exercises every route")
    succeeded = {(method, path) for (method, path, status) in RECORDED if 200 <= status < 300}
    missing = [f"{method} {path}" for method, path in _operations(app) if (method, path) not in succeeded]
    assert not missing, "routes no test saw succeed:\n" + "\n".join(missing)
