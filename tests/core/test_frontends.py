"""The built front ends are served at /console and /m/ (app/core/frontends.py); a missing build says how to build."""

from __future__ import annotations

from pathlib import Path

from app.core.frontends import Frontend, pick_file


async def test_console__index_at_the_mount_and_a_deep_link_opens_the_app(client):
    for path in ("/console", "/console/", "/console/cases/5", "/console/halls/2/screen"):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "<title>console</title>" in response.text
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-cache"


async def test_console__a_built_asset_is_served_and_kept_by_browsers(client):
    response = await client.get("/console/assets/index-abc123.js")
    assert response.status_code == 200
    assert response.text == "console.log('built')"
    assert "immutable" in response.headers["cache-control"]


async def test_console__a_missing_asset_is_404_not_the_page(client):
    response = await client.get("/console/assets/index-gone.js")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_console__nothing_outside_the_build_folder(client):
    for path in ("/console/../config.toml", "/console/%2e%2e/%2e%2e/config.toml", "/console/.env"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "secret" not in response.text


async def test_citizen_app__not_built_says_how_to_build(client):
    for path in ("/m/", "/m", "/m/pages/index/index"):
        response = await client.get(path)
        assert response.status_code == 404, path
        error = response.json()["error"]
        assert error["code"] == "FRONTEND_NOT_BUILT"
        assert "npm run build:h5 -w miniprogram" in error["message"]


def test_frontends_stay_out_of_the_openapi_document(app):
    from app.core.openapi import build_document
    from app.main import API_INFO

    paths = build_document(app, **API_INFO)["paths"]
    assert not [path for path in paths if path.startswith(("/console", "/m/")) or path == "/m"]


def test_pick_file__refuses_hidden_and_parent_parts(tmp_path: Path):
    (tmp_path / "index.html").write_text("x")
    frontend = Frontend("t", "/t", tmp_path, "build")
    assert pick_file(frontend, "") == tmp_path / "index.html"
    assert pick_file(frontend, "a/../../etc/passwd") is None
    assert pick_file(frontend, ".git/config") is None
    assert pick_file(frontend, "cases/5") == tmp_path / "index.html"
    assert pick_file(frontend, "app.js") is None
