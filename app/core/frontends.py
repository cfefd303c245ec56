"""The built front ends, served by this server: the staff console at /console and the citizen H5 app at /m/.

Both are static builds (console/dist, miniprogram/dist/h5; `make run` builds them when Node.js is present) that
speak only the API. A path naming a file of the build gets that file; any other path without a file extension
gets index.html, so a deep link such as /console/cases/5 opens the single-page app, whose router takes it from
there. Before a build exists the pages answer 404 saying how to build them. Not API operations: they stay out of
/openapi.json (no doc()) and out of the contract check (tests/test_openapi_contract.py says why).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sanic import Blueprint, Request, Sanic
from sanic.response import file

from app.core.config import PROJECT_ROOT, Settings
from app.core.errors import AppError, NotFound

# Built file names carry a content hash (Vite's assets/, Taro's js/ and css/): they never change, so browsers keep
# them; index.html names the hashes of now, so it is asked again every time.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class FrontendNotBuilt(AppError):
    status_code = 404
    code = "FRONTEND_NOT_BUILT"
    message = "前端尚未构建"


@dataclass(frozen=True)
class Frontend:
    """One built single-page app: where it is mounted, its build folder, and how to build it."""

    name: str
    mount: str
    root: Path
    build_command: str

    def index(self) -> Path:
        return self.root / "index.html"


def _resolve(folder: str) -> Path:
    path = Path(folder)
    return path if path.is_absolute() else PROJECT_ROOT / path


def frontends(settings: Settings) -> tuple[Frontend, ...]:
    """The front ends of these settings."""
    section = settings.frontends
    return (
        Frontend("工作人员工作台", "/console", _resolve(section.console_dir), "npm ci && npm run build -w console"),
        Frontend("掌上办事（H5）", "/m", _resolve(section.citizen_h5_dir), "npm ci && npm run build:h5 -w miniprogram"),
    )


def pick_file(frontend: Frontend, rest: str) -> Path | None:
    """The build's file for the path under the mount, index.html for an app route, None for a missing asset."""
    parts = PurePosixPath(rest).parts
    # Nothing outside the build folder, hidden files included (a .env, a .git left in the output by mistake).
    if any(part in ("..", "") or part.startswith(".") for part in parts):
        return None
    if parts:
        candidate = frontend.root.joinpath(*parts)
        if candidate.is_file():
            return candidate
        if "." in parts[-1]:
            return None  # a missing script or image: 404, not the HTML page in its place
    return frontend.index()


def _blueprint(frontend: Frontend) -> Blueprint:
    bp = Blueprint(f"frontend_{frontend.mount.strip('/')}")

    async def serve(request: Request, rest: str = ""):
        if not frontend.index().is_file():
            raise FrontendNotBuilt(
                f"{frontend.name}尚未构建：在项目目录运行 `{frontend.build_command}`（或 `make run`，需要 Node.js），"
                f"构建结果位于 {frontend.root}",
                details={"build": frontend.build_command},
            )
        path = pick_file(frontend, rest)
        if path is None:
            raise NotFound()
        cache = REVALIDATE if path.name == "index.html" else IMMUTABLE
        # Lower-case: Sanic's file() fills in its own cache-control unless this exact key is set.
        return await file(path, headers={"cache-control": cache})

    bp.add_route(serve, frontend.mount, methods=["GET"], strict_slashes=False, name="index")
    bp.add_route(serve, f"{frontend.mount}/<rest:path>", methods=["GET"], name="file")
    return bp


def install_frontends(app: Sanic, settings: Settings) -> None:
    """Mount every front end's build (or the 404 that says how to build it)."""
    for frontend in frontends(settings):
        app.blueprint(_blueprint(frontend))
