"""The mini-program builds (miniprogram/dist/weapp, dist/alipay) are whole and within WeChat's package size limits.

`make test` builds them first (npm run build:weapp / build:alipay -w miniprogram). A missing build is a skip on a
developer's machine and a failure under CI=true, where it means the build step did not run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.servers import ROOT

pytestmark = pytest.mark.backend_independent

DIST = ROOT / "miniprogram" / "dist"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
MB = 1024 * 1024
# WeChat's hard limits (mp.weixin.qq.com, 分包加载): main package and each subpackage 2 MB, the whole app 20 MB.
# Alipay's are larger (main 2 MB as well, whole 8 MB+ by category), so the same check keeps both safe.
MAIN_PACKAGE_LIMIT = 2 * MB
SUBPACKAGE_LIMIT = 2 * MB
TOTAL_LIMIT = 20 * MB
# What a page is made of, per platform: script, config, template and style.
PAGE_FILES = {"weapp": (".js", ".json", ".wxml", ".wxss"), "alipay": (".js", ".json", ".axml", ".acss")}


def _build(platform: str) -> Path:
    folder = DIST / platform
    if not (folder / "app.json").is_file():
        message = f"{folder} is not built: npm run build:{platform} -w miniprogram"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return folder


def _size(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def _subpackages(app: dict) -> list[dict]:
    return app.get("subPackages") or app.get("subpackages") or []


@pytest.mark.parametrize("platform", ["weapp", "alipay"])
def test_every_page_in_app_json_exists(platform):
    folder = _build(platform)
    app = json.loads((folder / "app.json").read_text(encoding="utf-8"))
    pages = list(app["pages"])
    for package in _subpackages(app):
        pages += [f"{package['root'].rstrip('/')}/{page}" for page in package["pages"]]
    assert pages, "app.json lists no pages"
    missing = [
        f"{page}{suffix}"
        for page in pages
        for suffix in PAGE_FILES[platform]
        if not (folder / f"{page}{suffix}").is_file()
    ]
    assert not missing, f"{platform}: pages listed in app.json without their files: {missing}"


@pytest.mark.parametrize("platform", ["weapp", "alipay"])
def test_package_sizes_within_wechats_limits(platform):
    folder = _build(platform)
    app = json.loads((folder / "app.json").read_text(encoding="utf-8"))
    total = _size(folder)
    subpackage_sizes = {package["root"]: _size(folder / package["root"]) for package in _subpackages(app)}
    main = total - sum(subpackage_sizes.values())
    print(
        f"{platform}: main package {main / 1024:.0f} KiB, total {total / 1024:.0f} KiB, subpackages {subpackage_sizes}"
    )
    assert main <= MAIN_PACKAGE_LIMIT, f"{platform} main package is {main} bytes, over 2 MB"
    over = {root: size for root, size in subpackage_sizes.items() if size > SUBPACKAGE_LIMIT}
    assert not over, f"{platform} subpackages over 2 MB: {over}"
    assert total <= TOTAL_LIMIT, f"{platform} app is {total} bytes, over 20 MB"
