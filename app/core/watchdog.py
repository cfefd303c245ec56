"""A server worker that dies (kill -9, out of memory) is started again by the main process; health tells meanwhile.

Sanic's worker manager marks a dead worker FAILED and carries on with one process fewer, for good. A thread of the
main process looks every second and asks the manager, through its own monitor channel, to restart the worker.
"""

from __future__ import annotations

import logging
import threading

from sanic import Sanic

log = logging.getLogger("app.watchdog")

SERVER_PREFIX = "Sanic-Server"
CHECK_SECONDS = 1.0


def _dead_servers(manager) -> list[str]:
    dead = []
    for process in manager.processes:
        if not process.name.startswith(SERVER_PREFIX) or process.state.name == "RESTARTING":
            continue
        if not process.is_alive() and process.exitcode not in (None, 0):
            dead.append(process.name)
    return dead


def watch_workers(manager, stop: threading.Event) -> None:
    """Until stop or the manager's shutdown: ask for a restart of every server worker found dead."""
    while not stop.wait(CHECK_SECONDS):
        if getattr(manager, "_shutting_down", False):
            return
        for name in _dead_servers(manager):
            log.error("server worker %s died; starting it again", name)
            manager.monitor_publisher.send(f"{name}:")


def install_watchdog(app: Sanic) -> None:
    """Watch the server workers from the main process of `python -m app serve`."""
    stop = threading.Event()

    @app.main_process_ready
    async def _start_watchdog(app, _loop=None):
        threading.Thread(target=watch_workers, args=(app.manager, stop), name="worker-watchdog", daemon=True).start()

    @app.main_process_stop
    async def _stop_watchdog(app, _loop=None):
        stop.set()


def workers_state(app: Sanic) -> str:
    """ "ok" when every server worker of this node is serving, "down" while one is dead or being started again."""
    try:
        workers = app.m.workers
    except (AttributeError, RuntimeError, KeyError):
        return "ok"  # a single process without a manager: this process answering is the whole node
    servers = {name: info for name, info in workers.items() if name.startswith(SERVER_PREFIX)}
    # ACKED: started and told the manager it serves; anything else (FAILED, RESTARTING, STARTING) is not serving yet.
    return "ok" if servers and all(info.get("state") == "ACKED" for info in servers.values()) else "down"
