"""A local cluster on loopback: nginx (deploy/nginx/govhall.conf) in front of app nodes, each `python -m app serve`
with workers of its own, and `python -m app worker` processes, over one PostgreSQL database and one Redis prefix.

    .venv/bin/python scripts/cluster.py [--nodes 2] [--workers 2] [--node-workers 1] [--port 8080]

The database is APP_DATABASE__URL (default: a `govhall_cluster` database on the local PostgreSQL, created and
migrated, the demo city loaded when empty) and the cache APP_CACHE__URL (default: the local Redis, prefix
"cluster:"). tests/test_cluster.py and bench/ start the same cluster through start_cluster(). Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
NGINX_SITE = ROOT / "deploy" / "nginx" / "govhall.conf"
START_TIMEOUT_SECONDS = 180


def free_port() -> int:
    """A port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def kill(self) -> None:
        """SIGKILL the process and everything it started (a node's server workers too)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM, then SIGKILL whatever is left after timeout."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.kill()


@dataclass
class Node(Process):
    url: str = ""


@dataclass
class Cluster:
    base: str
    nodes: list[Node]
    workers: list[Process]
    nginx: Process
    folder: Path
    env: dict[str, str] = field(default_factory=dict)

    def stop(self) -> None:
        """Stop everything: the balancer first, so nothing new reaches a stopping node."""
        self.nginx.stop()
        for process in [*self.nodes, *self.workers]:
            process.stop()


def _start(name: str, command: list[str], env: dict[str, str], folder: Path) -> tuple[subprocess.Popen, Path]:
    log = folder / f"{name}.log"
    with open(log, "wb") as out:
        popen = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return popen, log


def render_nginx(folder: Path, port: int, node_urls: list[str]) -> Path:
    """deploy/nginx/govhall.conf with these nodes and port, inside a main configuration of this folder."""
    site = NGINX_SITE.read_text()
    servers = "".join(f"    server {url.removeprefix('http://')} max_fails=3 fail_timeout=10s;\n" for url in node_urls)
    site = re.sub(r"(?m)^    server \S+:\d+ max_fails=.*;\n", "", site)
    site = site.replace("    keepalive 64;\n", servers + "    keepalive 64;\n", 1)
    site = site.replace("    listen 80;", f"    listen 127.0.0.1:{port};", 1)
    (folder / "govhall.conf").write_text(site)
    temp = folder / "nginx-temp"
    temp.mkdir(exist_ok=True)
    # nginx's workers may run as another user than its master (root: nobody): they write here.
    temp.chmod(0o777)
    main = f"""worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {folder}/govhall.conf;
}}
"""
    path = folder / "nginx.conf"
    path.write_text(main)
    return path


def wait_healthy(url: str, process: Process) -> None:
    """Poll url/healthz until 200; raise with the process's log when it exits or the time runs out."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=30).status_code == 200:
                return
        if process.popen.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{process.name} did not become healthy:\n{process.log.read_text(errors='replace')}")
        time.sleep(0.2)


def start_cluster(
    env: dict[str, str], folder: Path, *, nodes: int = 2, workers: int = 2, node_workers: int = 1, port: int = 0
) -> Cluster:
    """Start nginx, the app nodes and the workers with these APP_ settings; return once all are healthy."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    shared = {
        **env,
        # the jobs run in the worker processes only
        "APP_WORKER__EMBEDDED": "false",
        # behind nginx: X-Forwarded-For names the client
        "APP_SERVER__PROXIES_COUNT": "1",
        # the SDKs reach the simulator (and the providers our notify routes) through the balancer
        "APP_APP__PUBLIC_BASE_URL": base,
    }
    started: list[Process] = []
    try:
        node_list = []
        for number in range(1, nodes + 1):
            node_port = free_port()
            node_env = {**shared, "APP_METRICS__MULTIPROC_DIR": str(folder / f"node{number}-metrics")}
            command = [sys.executable, "-m", "app", "serve", "--port", str(node_port), "--workers", str(node_workers)]
            popen, log = _start(f"node{number}", command, node_env, folder)
            node = Node(f"node{number}", popen, log, url=f"http://127.0.0.1:{node_port}")
            started.append(node)
            node_list.append(node)
        worker_list = []
        for number in range(1, workers + 1):
            # each worker beside "its" node, counting into that node's metrics
            metrics_dir = folder / f"node{(number - 1) % nodes + 1}-metrics"
            popen, log = _start(
                f"worker{number}",
                [sys.executable, "-m", "app", "worker"],
                {**shared, "APP_METRICS__MULTIPROC_DIR": str(metrics_dir)},
                folder,
            )
            worker = Process(f"worker{number}", popen, log)
            started.append(worker)
            worker_list.append(worker)
        conf = render_nginx(folder, port, [node.url for node in node_list])
        popen, log = _start("nginx", [NGINX, "-p", str(folder), "-c", str(conf)], {}, folder)
        balancer = Process("nginx", popen, log)
        started.append(balancer)
        for node in node_list:
            wait_healthy(node.url, node)
        wait_healthy(base, balancer)
        for worker in worker_list:
            if worker.popen.poll() is not None:
                raise RuntimeError(f"{worker.name} exited:\n{worker.log.read_text(errors='replace')}")
        return Cluster(base, node_list, worker_list, balancer, folder, shared)
    except BaseException:
        for process in started:
            process.kill()
        raise


def _prepare_database(env: dict[str, str]) -> None:
    for command in (["migrate"], ["seed", "--demo"]):
        done = subprocess.run(
            [sys.executable, "-m", "app", *command], cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise SystemExit(done.stderr.strip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--node-workers", type=int, default=1, help="server worker processes per node")
    parser.add_argument("--port", type=int, default=8080, help="nginx's port")
    args = parser.parse_args()
    if not os.path.exists(NGINX):
        print("nginx is missing: `make nginx` installs Debian's package", file=sys.stderr)
        return 1
    env = {
        "APP_DATABASE__URL": os.environ.get("APP_DATABASE__URL", "postgres://postgres@127.0.0.1:5432/govhall_cluster"),
        "APP_CACHE__URL": os.environ.get("APP_CACHE__URL", "redis://127.0.0.1:6379/0"),
        "APP_CACHE__KEY_PREFIX": os.environ.get("APP_CACHE__KEY_PREFIX", "cluster:"),
    }
    if env["APP_DATABASE__URL"].endswith("/govhall_cluster"):
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "govhall_cluster"], capture_output=True)
    _prepare_database(env)
    folder = Path(tempfile.mkdtemp(prefix="govhall-cluster-"))
    cluster = start_cluster(
        env, folder, nodes=args.nodes, workers=args.workers, node_workers=args.node_workers, port=args.port
    )
    print(f"nginx on {cluster.base} -> " + ", ".join(node.url for node in cluster.nodes), flush=True)
    print(f"{len(cluster.workers)} workers; logs in {folder}; Ctrl-C stops", flush=True)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
