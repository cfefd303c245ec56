"""Materials a window clerk scans for a walk-in citizen's case: POST /api/v1/staff/cases/{id}/materials."""

import pytest

from app.audit import service as audit
from app.cases import service
from app.cases.errors import CaseNotFound, FileTooLarge, MaterialsClosed, RoleNotAllowed, UnsupportedFileType
from app.core.auth import Principal
from tests import factories as f
from tests.core.test_errors import assert_error_shape


def _staff(account: dict, *roles: str) -> Principal:
    return Principal(kind="staff", id=account["id"], roles=roles, department_id=account["department_id"])


async def _filed(client, setup: dict) -> dict:
    """A walk-in case filed and accepted at the window by the setup's clerk."""
    body = {
        "matter_id": setup["matter"]["id"],
        "applicant_name": "赵六",
        "id_number": f.id_number(),
        "form": {"reason": "现场办理"},
        "materials_checked": setup["required"],
    }
    response = await client.post("/api/v1/staff/cases", headers=setup["clerk"]["headers"], json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _store(app, principal: Principal, case_id: int, material_id: int, data: bytes = f.PDF_BYTES, **overrides):
    arguments = {
        "material_id": material_id,
        "data": data,
        "file_name": "scan.pdf",
        "storage": app.ctx.storage,
        "max_bytes": app.ctx.settings.storage.max_upload_bytes,
        "cache": app.ctx.cache,
        "guide_ttl": 60,
        **overrides,
    }
    return service.upload_material_at_window(principal, case_id, **arguments)


async def test_a_clerk_stores_scans_for_a_window_case_and_the_upload_is_audited(app, client, cache):
    setup = await f.case_setup(client, cache)
    case = await _filed(client, setup)
    clerk = _staff(setup["clerk"], "clerk")
    pdf = await _store(app, clerk, case["id"], setup["required"][0], file_name="身份证.pdf")
    png = await _store(app, clerk, case["id"], setup["required"][1], f.PNG_BYTES, file_name="户口簿.png")
    assert (pdf["content_type"], png["content_type"]) == ("application/pdf", "image/png")
    assert pdf["file_name"] == "身份证.pdf" and png["size_bytes"] == len(f.PNG_BYTES)

    # Over HTTP too: the console's call.
    over_http = await client.post(
        f"/api/v1/staff/cases/{case['id']}/materials",
        headers=setup["clerk"]["headers"],
        data={"material_id": str(setup["optional"][0])},
        files={"file": ("其他.jpg", f.JPEG_BYTES)},
    )
    assert over_http.status_code == 201, over_http.text
    jpeg = over_http.json()
    assert jpeg["content_type"] == "image/jpeg" and jpeg["material_id"] == setup["optional"][0]

    view = await service.get_case(clerk, case["id"], cache=cache, guide_ttl=60)
    files = {m["id"]: [x["id"] for x in m["files"]] for m in view["materials"]}
    assert files[setup["required"][0]] == [pdf["id"]] and files[setup["required"][1]] == [png["id"]]
    assert files[setup["optional"][0]] == [jpeg["id"]]
    data, file = await service.read_material(clerk, case["id"], pdf["id"], storage=app.ctx.storage)
    assert data == f.PDF_BYTES and file["id"] == pdf["id"]

    trail = [e for e in await audit.entries_for("case", case["id"]) if e["action"] == "case.upload_material"]
    assert [e["after"]["file_id"] for e in trail] == [pdf["id"], png["id"], jpeg["id"]]
    assert all(e["staff_id"] == clerk.id for e in trail)
    assert trail[0]["after"]["material_id"] == setup["required"][0] and trail[0]["after"]["status"] == "accepted"


async def test_not_found_twins_a_missing_case_and_a_clerk_of_another_department(app, client, cache):
    setup = await f.case_setup(client, cache)
    case = await _filed(client, setup)
    foreign = await f.staff(client, "clerk", department_id=(await f.department(cache))["id"])
    with pytest.raises(CaseNotFound):
        await _store(app, _staff(setup["clerk"], "clerk"), 2_000_000_000, setup["required"][0])
    with pytest.raises(CaseNotFound):
        await _store(app, _staff(foreign, "clerk"), case["id"], setup["required"][0])
    # The same 404 over HTTP, for the upload and for the files already there.
    mine = await _store(app, _staff(setup["clerk"], "clerk"), case["id"], setup["required"][0])
    path = f"/api/v1/staff/cases/{case['id']}/materials"
    foreign_upload = await client.post(
        path,
        headers=foreign["headers"],
        data={"material_id": str(setup["required"][0])},
        files={"file": ("scan.pdf", f.PDF_BYTES)},
    )
    assert_error_shape(foreign_upload, 404, "CASE_NOT_FOUND")
    foreign_read = await client.get(f"{path}/{mine['id']}", headers=foreign["headers"])
    assert_error_shape(foreign_read, 404, "CASE_NOT_FOUND")


async def test_forbidden_twins_an_approver_of_the_department_and_a_citizen(app, client, cache):
    setup = await f.case_setup(client, cache)
    case = await _filed(client, setup)
    with pytest.raises(RoleNotAllowed):
        await _store(app, _staff(setup["approver"], "approver"), case["id"], setup["required"][0])
    supervisor = await f.staff(client, "supervisor")
    with pytest.raises(RoleNotAllowed):
        await _store(app, _staff(supervisor, "supervisor"), case["id"], setup["required"][0])
    path = f"/api/v1/staff/cases/{case['id']}/materials"
    form = {"material_id": str(setup["required"][0])}
    by_approver = await client.post(
        path, headers=setup["approver"]["headers"], data=form, files={"file": ("a.pdf", f.PDF_BYTES)}
    )
    by_citizen = await client.post(
        path, headers=setup["citizen"]["headers"], data=form, files={"file": ("a.pdf", f.PDF_BYTES)}
    )
    assert_error_shape(by_approver, 403, "FORBIDDEN")
    assert_error_shape(by_citizen, 403, "FORBIDDEN")


async def test_illegal_state_twins_once_review_starts_and_for_a_draft(app, client, cache):
    setup = await f.case_setup(client, cache)
    case = await _filed(client, setup)
    clerk = _staff(setup["clerk"], "clerk")
    await f.moved(client, case, setup["approver"], "start_review")
    with pytest.raises(MaterialsClosed):
        await _store(app, clerk, case["id"], setup["required"][0])
    draft = await f.draft(client, setup)
    with pytest.raises(MaterialsClosed):
        await _store(app, clerk, draft["id"], setup["required"][0])
    response = await client.post(
        f"/api/v1/staff/cases/{case['id']}/materials",
        headers=setup["clerk"]["headers"],
        data={"material_id": str(setup["required"][0])},
        files={"file": ("scan.pdf", f.PDF_BYTES)},
    )
    assert_error_shape(response, 409, "MATERIALS_CLOSED")
    assert response.json()["error"]["details"]["status"] == "in_review"
    # Nothing was stored or audited for the refused uploads.
    view = await service.get_case(clerk, case["id"], cache=cache, guide_ttl=60)
    assert all(m["files"] == [] for m in view["materials"])
    assert not [e for e in await audit.entries_for("case", case["id"]) if e["action"] == "case.upload_material"]


async def test_a_move_to_review_between_the_check_and_the_write_stores_nothing(app, client, cache, tmp_path):
    """The state is read again, locked, in the file's transaction: a case that left the window meanwhile gets 409
    and neither a file row nor stored bytes nor an audit entry."""
    from app.cases.models import Case, CaseFile
    from app.core.storage import LocalStorage

    setup = await f.case_setup(client, cache)
    case = await _filed(client, setup)
    as_read = await Case.get(id=case["id"])  # accepted, as the first check saw it
    await f.moved(client, case, setup["approver"], "start_review")
    storage = LocalStorage(tmp_path)
    with pytest.raises(MaterialsClosed):
        await service._store_material(
            _staff(setup["clerk"], "clerk"),
            as_read,
            material_id=setup["required"][0],
            data=f.PDF_BYTES,
            file_name="scan.pdf",
            storage=storage,
            max_bytes=1024 * 1024,
            cache=cache,
            guide_ttl=60,
            at_window=True,
        )
    assert await CaseFile.filter(case_id=case["id"]).count() == 0
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    assert not [e for e in await audit.entries_for("case", case["id"]) if e["action"] == "case.upload_material"]


async def test_a_supplement_case_takes_window_scans_too(app, client, cache):
    setup = await f.case_setup(client, cache)
    case = await f.submitted_case(client, setup)
    items = [{"material_id": setup["required"][0], "reason": "复印件不清晰"}]
    waiting = await f.moved(client, case, setup["clerk"], "request_supplement", items=items)
    assert waiting["status"] == "supplement_required"
    stored = await _store(app, _staff(setup["clerk"], "clerk"), case["id"], setup["required"][0], f.JPEG_BYTES)
    assert stored["content_type"] == "image/jpeg"


async def test_bad_type_size_and_material_are_refused_before_anything_is_stored(app, client, cache):
    setup = await f.case_setup(client, cache)
    case = await _filed(client, setup)
    clerk = _staff(setup["clerk"], "clerk")
    with pytest.raises(UnsupportedFileType):
        await _store(app, clerk, case["id"], setup["required"][0], b"GIF89a not accepted")
    with pytest.raises(FileTooLarge):
        await _store(app, clerk, case["id"], setup["required"][0], f.PDF_BYTES, max_bytes=10)
    path = f"/api/v1/staff/cases/{case['id']}/materials"
    headers = setup["clerk"]["headers"]
    gif = await client.post(
        path, headers=headers, data={"material_id": str(setup["required"][0])}, files={"file": ("a.gif", b"GIF89a")}
    )
    assert_error_shape(gif, 415, "UNSUPPORTED_FILE_TYPE")
    unknown = await client.post(
        path, headers=headers, data={"material_id": "999999"}, files={"file": ("a.pdf", f.PDF_BYTES)}
    )
    assert_error_shape(unknown, 422, "UNKNOWN_MATERIAL")
    no_file = await client.post(path, headers=headers, data={"material_id": str(setup["required"][0])})
    assert no_file.status_code == 422
    limit = app.ctx.settings.storage.max_upload_bytes
    huge = await client.post(
        path,
        headers=headers,
        data={"material_id": str(setup["required"][0])},
        files={"file": ("big.pdf", b"%PDF-" + b"0" * limit)},
    )
    assert huge.status_code == 413
    view = await service.get_case(clerk, case["id"], cache=cache, guide_ttl=60)
    assert all(m["files"] == [] for m in view["materials"])
