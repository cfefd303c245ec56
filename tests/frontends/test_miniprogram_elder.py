"""Elder mode reaches the mini-programs: the built WeChat and Alipay styles enlarge text under PageShell's class.

H5 is measured in a browser (tests/browser/test_citizen_me.py); the mini-programs cannot run here, so this reads
their built stylesheets: `.page-shell.elder` must set the base text to >= 18 px (36 rpx: the app is drawn at 375 px,
pxtransform doubles px into rpx) with line height >= 1.3, and NutUI's size variables with it. A rule moved to
`page` or `:root` (which the switch cannot reach at run time) fails here.
"""

from __future__ import annotations

import re

import pytest

from tests.frontends.test_miniprogram_build import _build

pytestmark = pytest.mark.backend_independent

STYLE = {"weapp": "wxss", "alipay": "acss"}
MIN_RPX = 36  # 18 px at the 375 px design width
MIN_LINE_HEIGHT = 1.3


def _elder_block(platform: str) -> str:
    folder = _build(platform)
    styles = "".join(path.read_text(encoding="utf-8") for path in folder.glob(f"*.{STYLE[platform]}"))
    match = re.search(r"\.page-shell\.elder\{([^}]*)\}", styles)
    assert match, f"{platform}: no .page-shell.elder rule in the built styles"
    return match.group(1)


def _value(block: str, name: str) -> str:
    found = re.search(rf"(?:^|;){re.escape(name)}:([^;]+)", block)
    assert found, f"{name} is not set under .page-shell.elder"
    return found.group(1).strip()


def _rpx(value: str) -> float:
    assert value.endswith("rpx"), f"{value} is not in rpx (pxtransform did not run?)"
    return float(value[:-3])


@pytest.mark.parametrize("platform", ["weapp", "alipay"])
def test_elder_mode_sets_large_text_and_nutui_sizes_on_the_page_root(platform):
    block = _elder_block(platform)
    assert _rpx(_value(block, "font-size")) >= MIN_RPX
    assert float(_value(block, "line-height")) >= MIN_LINE_HEIGHT
    for variable in ("--nutui-font-size-base", "--nutui-font-size-s", "--nutui-cell-title-font-size"):
        assert _rpx(_value(block, variable)) >= MIN_RPX, variable
