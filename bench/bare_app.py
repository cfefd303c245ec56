"""The yardstick: a bare Sanic JSON endpoint (any path, GET or POST), served like the real app."""

from __future__ import annotations

import argparse

from sanic import Sanic
from sanic.response import json

app = Sanic("bench_bare", configure_logging=False)


@app.route("/<path:path>", methods=["GET", "POST"])
async def anything(request, path: str):
    return json({"ok": True, "path": path})


@app.route("/", methods=["GET", "POST"])
async def root(request):
    return json({"ok": True})


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    app.run(
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        access_log=False,
        motd=False,
        single_process=args.workers == 1,
    )
