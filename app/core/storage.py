"""Where uploaded case materials are kept: a folder on this server or an S3-compatible object store."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio
from minio.error import S3Error

from app.core.config import PROJECT_ROOT, StorageSection
from app.core.errors import NotFound, ServiceUnavailable

log = logging.getLogger("app.storage")

EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}

_SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
_KEY = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*")
# The SDK's own defaults wait 5 minutes per socket operation; a request should fail long before that.
_S3_TIMEOUT = urllib3.Timeout(connect=5, read=60)
_S3_RETRIES = urllib3.Retry(total=3, backoff_factor=0.2, status_forcelist=(500, 502, 503, 504))


class StoredFileMissing(NotFound):
    code = "STORED_FILE_MISSING"
    message = "文件不存在"


class StorageUnavailable(ServiceUnavailable):
    code = "STORAGE_UNAVAILABLE"
    message = "文件存储暂不可用"


def sniff_content_type(data: bytes) -> str | None:
    """The type of a file by its first bytes (PDF, JPEG or PNG), None for anything else."""
    # Never the file name or the client's header: both are the uploader's to choose.
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return content_type
    return None


def check_key(key: str) -> str:
    """The key itself if it is a relative path of safe characters, else ValueError."""
    # Refused rather than cleaned, so a key is stored under exactly its name on every backend and can never
    # leave the local root; "." segments are refused too because a folder would collapse them and S3 would not.
    if not _KEY.fullmatch(key) or ".." in key or "." in key.split("/"):
        raise ValueError(f"storage key {key!r} is not a relative path of [A-Za-z0-9/_.-]")
    return key


class Storage(Protocol):
    """What the domains may ask of the file store."""

    async def put(self, key: str, data: bytes, content_type: str) -> None: ...
    async def get(self, key: str) -> bytes: ...
    async def delete(self, key: str) -> None: ...
    async def ping(self) -> None: ...
    async def close(self) -> None: ...


class LocalStorage:
    """Files in a folder of this server (embedded default; one server only)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store data under key, replacing what was there."""
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written beside the target and renamed over it: a reader or a crash sees the old file or the new one,
        # never half of one. mkstemp also makes it 0600: scans of ID cards are for this service's user only.
        handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".upload-", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp_name, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        # The rename survives a power cut only once the folder itself is on disk.
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    async def get(self, key: str) -> bytes:
        """The bytes stored under key; StoredFileMissing when there are none."""
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            log.warning("storage: %s is missing", key)
            raise StoredFileMissing() from None

    async def delete(self, key: str) -> None:
        """Remove what is stored under key, if anything."""
        path = self._path(key)
        with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
            await asyncio.to_thread(path.unlink)

    async def ping(self) -> None:
        """Raise StorageUnavailable unless files can be written under the root."""

        def probe() -> bool:
            self.root.mkdir(parents=True, exist_ok=True)
            return os.access(self.root, os.W_OK | os.X_OK)

        try:
            writable = await asyncio.to_thread(probe)
        except OSError as exc:
            log.warning("storage: %s cannot be created: %s", self.root, exc.strerror)
            raise StorageUnavailable() from None
        if not writable:
            log.warning("storage: %s is not writable", self.root)
            raise StorageUnavailable()

    async def close(self) -> None:
        """Nothing to release."""


class S3Storage:
    """Objects in a bucket of an S3-compatible store (MinIO, Aliyun OSS, Tencent COS, AWS S3)."""

    def __init__(
        self, *, endpoint: str, bucket: str, access_key: str, secret_key: str, region: str, path_style: bool = True
    ) -> None:
        url = urlsplit(endpoint)
        if url.scheme not in ("http", "https") or not url.netloc or url.path not in ("", "/"):
            raise ValueError(f"S3 endpoint {endpoint!r} must be an http(s):// URL with no path")
        self.endpoint = endpoint
        self.bucket = bucket
        self._http = urllib3.PoolManager(
            timeout=_S3_TIMEOUT,
            retries=_S3_RETRIES,
            maxsize=16,
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        )
        # With the region given the SDK signs for it directly instead of asking the store first.
        self._client = Minio(
            url.netloc,
            access_key=access_key,
            secret_key=secret_key,
            secure=url.scheme == "https",
            region=region or None,
            http_client=self._http,
        )
        if path_style:
            self._client.disable_virtual_style_endpoint()
        else:
            self._client.enable_virtual_style_endpoint()

    def __repr__(self) -> str:
        return f"S3Storage(endpoint={self.endpoint!r}, bucket={self.bucket!r})"

    # The SDK is synchronous: every call runs on a worker thread, off the event loop.

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store data under key, replacing what was there."""
        check_key(key)
        await asyncio.to_thread(
            self._client.put_object, self.bucket, key, io.BytesIO(data), len(data), content_type=content_type
        )

    async def get(self, key: str) -> bytes:
        """The bytes stored under key; StoredFileMissing when there are none."""
        check_key(key)
        return await asyncio.to_thread(self._read, key)

    def _read(self, key: str) -> bytes:
        try:
            response = self._client.get_object(self.bucket, key)
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                log.warning("storage: %s is missing", key)
                raise StoredFileMissing() from None
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    async def delete(self, key: str) -> None:
        """Remove what is stored under key, if anything."""
        check_key(key)
        # S3 answers a delete of an absent object with success, which is what we want.
        await asyncio.to_thread(self._client.remove_object, self.bucket, key)

    async def ping(self) -> None:
        """Raise unless the bucket answers (StorageUnavailable when it does not exist)."""
        if not await asyncio.to_thread(self._client.bucket_exists, self.bucket):
            log.warning("storage: bucket %s does not exist", self.bucket)
            raise StorageUnavailable()

    async def close(self) -> None:
        """Close the pooled connections."""
        self._http.clear()


def build_storage(section: StorageSection) -> Storage:
    """The storage the settings ask for."""
    if section.backend == "s3":
        return S3Storage(
            endpoint=section.s3_endpoint,
            bucket=section.s3_bucket,
            access_key=section.s3_access_key,
            secret_key=section.s3_secret_key,
            region=section.s3_region,
            path_style=section.s3_path_style,
        )
    root = Path(section.local_dir)
    return LocalStorage(root if root.is_absolute() else PROJECT_ROOT / root)
