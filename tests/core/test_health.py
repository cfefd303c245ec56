async def test_healthz_reports_db_and_cache(client):
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "db": "ok", "cache": "ok", "workers": "ok"}


async def test_healthz_is_503_naming_the_part_that_is_down(app, client, monkeypatch):
    async def broken():
        raise ConnectionError("cache gone")

    monkeypatch.setattr(app.ctx.cache, "ping", broken)
    response = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "db": "ok", "cache": "down", "workers": "ok"}


async def test_openapi_document_lists_every_route_with_schemas(app, client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    paths = spec["paths"]
    for path in (
        "/healthz",
        "/api/v1/departments",
        "/api/v1/matters",
        "/api/v1/matters/{matter_id}",
        "/api/v1/admin/matters",
        "/api/v1/admin/matters/{matter_id}",
    ):
        assert path in paths, path
    create = paths["/api/v1/admin/matters"]["post"]
    assert "requestBody" in create
    assert "201" in create["responses"]
    docs = await client.get("/docs")
    assert docs.status_code == 200


def test_live_mode_has_no_simulator_routes(settings):
    from app.main import create_app

    live = settings.model_copy(update={"platforms": settings.platforms.model_copy(update={"mode": "live"})})
    app = create_app(live, name="govhall_live_check", manage_resources=False)
    app.router.finalize()
    paths = {route.path for route in app.router.routes}
    assert not any(path.startswith("sim") for path in paths)
    assert "api/v1/auth/wechat" in paths


async def test_openapi_document_lists_the_case_notification_and_payment_routes(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/materials",
        "/api/v1/cases/{case_id}/submit",
        "/api/v1/cases/link",
        "/api/v1/staff/cases",
        "/api/v1/staff/cases/{case_id}/transitions",
        "/api/v1/me/messages",
        "/api/v1/me/subscriptions",
        "/api/v1/subscriptions/templates",
        "/api/v1/staff/deliveries",
        "/api/v1/cases/{case_id}/payments",
        "/api/v1/payments/{order_no}",
        "/api/v1/pay/notify/wechat",
        "/api/v1/pay/notify/alipay",
        "/api/v1/admin/payments/{order_no}/refunds",
        "/api/v1/admin/reconciliations",
    ):
        assert path in paths, path
    transition = paths["/api/v1/staff/cases/{case_id}/transitions"]["post"]
    assert "requestBody" in transition and "200" in transition["responses"]
