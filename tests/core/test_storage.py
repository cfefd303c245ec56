import json
import os
import socket
import uuid
from pathlib import Path

import pytest
from minio import Minio
from moto.server import ThreadedMotoServer

from app.core.config import PROJECT_ROOT, ConfigError, load_settings
from app.core.errors import NotFound, render_error
from app.core.storage import (
    EXTENSIONS,
    LocalStorage,
    S3Storage,
    StorageUnavailable,
    StoredFileMissing,
    build_storage,
    sniff_content_type,
)

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
TRAVERSAL_KEYS = ["../x", "/etc/passwd", "a/../../b", "a\\b", "", "a//b", "./a", "a/./b", "a/", "x y.pdf", "é.pdf"]
S3_ACCESS_KEY = "test-access-key"
S3_SECRET_KEY = "test-secret-key-never-shown"
S3_ENV = {
    "APP_STORAGE__BACKEND": "s3",
    "APP_STORAGE__S3_ENDPOINT": "http://127.0.0.1:9000",
    "APP_STORAGE__S3_BUCKET": "govhall-materials",
    "APP_STORAGE__S3_ACCESS_KEY": "AKID0123",
    "APP_STORAGE__S3_SECRET_KEY": "s3-secret-value-0123456789",
}


# ---- sniffing ----


@pytest.mark.parametrize("data, content_type", [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png")])
def test_sniff__knows_pdf_jpeg_and_png_by_their_first_bytes(data, content_type):
    assert sniff_content_type(data) == content_type
    assert content_type in EXTENSIONS


@pytest.mark.parametrize(
    "data",
    [
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
        "身份证复印件".encode(),
        b"",
        b"%PDF",
        b"\x89PNG\r\n\x1a",
        b" %PDF-1.7",
    ],
)
def test_sniff__refuses_anything_else(data):
    assert sniff_content_type(data) is None


def test_extensions_of_every_sniffed_type():
    assert EXTENSIONS == {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


# ---- local ----


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "uploads")


def _files_under(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())


async def test_local__round_trip_and_overwrite(local: LocalStorage):
    key = f"cases/123/{uuid.uuid4().hex}.pdf"
    await local.put(key, PDF, "application/pdf")
    assert await local.get(key) == PDF
    await local.put(key, PNG, "image/png")
    assert await local.get(key) == PNG
    assert _files_under(local.root) == [key]  # no temp file left behind


async def test_local__missing_key_is_a_404_in_the_api_error_shape(local: LocalStorage):
    with pytest.raises(StoredFileMissing) as missing:
        await local.get("cases/1/absent.pdf")
    assert isinstance(missing.value, NotFound)
    assert missing.value.status_code == 404
    response = render_error(None, missing.value)
    assert response.status == 404
    assert json.loads(response.body)["error"]["code"] == "STORED_FILE_MISSING"


async def test_local__a_folder_is_no_file(local: LocalStorage):
    await local.put("cases/1/a.pdf", PDF, "application/pdf")
    with pytest.raises(StoredFileMissing):
        await local.get("cases/1")
    with pytest.raises(StoredFileMissing):
        await local.get("cases/1/a.pdf/b")


async def test_local__delete_is_idempotent(local: LocalStorage):
    await local.put("cases/1/a.pdf", PDF, "application/pdf")
    await local.delete("cases/1/a.pdf")
    await local.delete("cases/1/a.pdf")
    await local.delete("never/stored.png")
    with pytest.raises(StoredFileMissing):
        await local.get("cases/1/a.pdf")


@pytest.mark.parametrize("key", TRAVERSAL_KEYS)
async def test_local__keys_that_could_leave_the_root_are_refused(tmp_path: Path, key: str):
    local = LocalStorage(tmp_path / "uploads")
    for call in (local.put(key, PDF, "application/pdf"), local.get(key), local.delete(key)):
        with pytest.raises(ValueError):
            await call
    assert _files_under(tmp_path) == []


async def test_local__a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(local, monkeypatch):
    await local.put("cases/1/a.pdf", PDF, "application/pdf")

    def crash(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        await local.put("cases/1/a.pdf", PNG, "image/png")
    monkeypatch.undo()
    assert await local.get("cases/1/a.pdf") == PDF
    assert _files_under(local.root) == ["cases/1/a.pdf"]


async def test_local__ping_creates_the_root_and_fails_when_it_cannot(tmp_path: Path):
    await LocalStorage(tmp_path / "a" / "b").ping()
    assert (tmp_path / "a" / "b").is_dir()
    blocker = tmp_path / "file"
    blocker.write_bytes(b"x")
    with pytest.raises(StorageUnavailable):
        await LocalStorage(blocker / "uploads").ping()


# ---- S3, against moto's S3-compatible server on a local port ----


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
async def s3(s3_endpoint: str):
    bucket = f"govhall-test-{uuid.uuid4().hex[:12]}"
    Minio(
        s3_endpoint.removeprefix("http://"),
        access_key=S3_ACCESS_KEY,
        secret_key=S3_SECRET_KEY,
        secure=False,
        region="us-east-1",
    ).make_bucket(bucket)
    storage = S3Storage(
        endpoint=s3_endpoint,
        bucket=bucket,
        access_key=S3_ACCESS_KEY,
        secret_key=S3_SECRET_KEY,
        region="us-east-1",
        path_style=True,
    )
    yield storage
    await storage.close()


async def test_s3__round_trip_overwrite_and_content_type(s3: S3Storage):
    key = f"cases/123/{uuid.uuid4().hex}.jpg"
    await s3.put(key, JPEG, "image/jpeg")
    assert await s3.get(key) == JPEG
    assert s3._client.stat_object(s3.bucket, key).content_type == "image/jpeg"
    await s3.put(key, PDF, "application/pdf")
    assert await s3.get(key) == PDF


async def test_s3__missing_key_raises_stored_file_missing(s3: S3Storage):
    with pytest.raises(StoredFileMissing):
        await s3.get("cases/1/absent.pdf")


async def test_s3__delete_is_idempotent(s3: S3Storage):
    await s3.put("cases/1/a.png", PNG, "image/png")
    await s3.delete("cases/1/a.png")
    await s3.delete("cases/1/a.png")
    with pytest.raises(StoredFileMissing):
        await s3.get("cases/1/a.png")


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "a\\b"])
async def test_s3__refuses_the_same_keys_as_local(s3: S3Storage, key: str):
    with pytest.raises(ValueError):
        await s3.put(key, PDF, "application/pdf")


async def test_s3__ping_answers_for_the_bucket_and_fails_without_it(s3: S3Storage, s3_endpoint: str):
    await s3.ping()
    absent = S3Storage(
        endpoint=s3_endpoint,
        bucket="no-such-bucket",
        access_key=S3_ACCESS_KEY,
        secret_key=S3_SECRET_KEY,
        region="us-east-1",
    )
    with pytest.raises(StorageUnavailable):
        await absent.ping()
    await absent.close()


def test_s3__the_secret_is_not_in_its_repr():
    storage = S3Storage(
        endpoint="https://s3.oss-cn-hangzhou.aliyuncs.com",
        bucket="materials",
        access_key="AKID",
        secret_key=S3_SECRET_KEY,
        region="cn-hangzhou",
        path_style=False,
    )
    assert S3_SECRET_KEY not in repr(storage)
    assert "materials" in repr(storage)


@pytest.mark.parametrize("endpoint", ["127.0.0.1:9000", "ftp://host", "https://host/bucket"])
def test_s3__endpoint_must_be_a_bare_http_url(endpoint: str):
    with pytest.raises(ValueError):
        S3Storage(endpoint=endpoint, bucket="materials", access_key="a", secret_key="s", region="us-east-1")


# ---- build_storage and settings ----


def test_build_storage__local_by_default_under_the_project():
    storage = build_storage(load_settings(environ={}).storage)
    assert isinstance(storage, LocalStorage)
    assert storage.root == PROJECT_ROOT / "var" / "uploads"


def test_build_storage__keeps_an_absolute_local_dir(tmp_path: Path):
    storage = build_storage(load_settings(environ={"APP_STORAGE__LOCAL_DIR": str(tmp_path)}).storage)
    assert isinstance(storage, LocalStorage) and storage.root == tmp_path


async def test_build_storage__s3_when_asked():
    storage = build_storage(load_settings(environ=S3_ENV).storage)
    assert isinstance(storage, S3Storage)
    assert storage.bucket == "govhall-materials"
    await storage.close()


def test_settings__defaults_and_a_body_limit_that_fits_an_upload():
    settings = load_settings(environ={})
    assert settings.storage.backend == "local"
    assert settings.storage.max_upload_bytes == 10 * 1024 * 1024
    assert settings.server.max_body_bytes >= settings.storage.max_upload_bytes + 64 * 1024


@pytest.mark.parametrize("key", ["s3_endpoint", "s3_bucket", "s3_access_key", "s3_secret_key"])
def test_settings__s3_without_a_required_key_stops_with_one_line_naming_it(key: str):
    environ = {**S3_ENV, f"APP_STORAGE__{key.upper()}": ""}
    with pytest.raises(ConfigError) as error:
        load_settings(environ=environ)
    message = str(error.value)
    assert f"storage.{key}" in message and "backend = s3" in message
    assert "\n" not in message
    assert S3_ENV["APP_STORAGE__S3_SECRET_KEY"] not in message


def test_settings__s3_without_bucket_is_named():
    environ = {key: value for key, value in S3_ENV.items() if key != "APP_STORAGE__S3_BUCKET"}
    with pytest.raises(ConfigError, match=r"storage\.s3_bucket"):
        load_settings(environ=environ)


@pytest.mark.parametrize(
    "environ, named_key",
    [
        ({"APP_STORAGE__BACKEND": "ftp"}, "storage.backend"),
        ({"APP_STORAGE__MAX_UPLOAD_BYTES": "100"}, "storage.max_upload_bytes"),
        ({**S3_ENV, "APP_STORAGE__S3_ENDPOINT": "s3.oss-cn-hangzhou.aliyuncs.com"}, "storage.s3_endpoint"),
        ({**S3_ENV, "APP_STORAGE__S3_BUCKET": "Materials_Bucket"}, "storage.s3_bucket"),
    ],
)
def test_settings__bad_storage_values_are_named(environ, named_key):
    with pytest.raises(ConfigError, match=named_key.replace(".", r"\.")):
        load_settings(environ=environ)


def test_settings__s3_secret_is_not_in_the_repr():
    settings = load_settings(environ=S3_ENV)
    assert settings.storage.s3_secret_key == S3_ENV["APP_STORAGE__S3_SECRET_KEY"]
    assert S3_ENV["APP_STORAGE__S3_SECRET_KEY"] not in repr(settings.storage)
