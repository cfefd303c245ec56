"""Where a node's processes keep their metric files; imported before prometheus_client, which reads it at import."""

from __future__ import annotations

import os
import re
from pathlib import Path

from app.core.config import PROJECT_ROOT, MetricsSection

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# prometheus-client names its files <kind>_<pid>.db (gauge_livesum_1234.db).
_FILE_PID = re.compile(r"_(\d+)\.db$")


def node_directory(settings: MetricsSection) -> Path:
    """The folder this node's processes write their metric files to."""
    folder = Path(settings.multiproc_dir)
    return folder if folder.is_absolute() else PROJECT_ROOT / folder


def prepare_process(settings: MetricsSection, *, clear_gone: bool) -> None:
    """Point this process and those it starts at the node's metric files; clear_gone drops files of dead processes."""
    if not settings.enabled:
        return
    folder = Path(os.environ.setdefault(MULTIPROC_ENV, str(node_directory(settings))))
    folder.mkdir(parents=True, exist_ok=True)
    if clear_gone:
        for path in folder.glob("*.db"):
            match = _FILE_PID.search(path.name)
            if match and not _alive(int(match.group(1))):
                path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
