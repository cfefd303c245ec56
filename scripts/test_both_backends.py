"""Run the suite on the embedded default and on PostgreSQL + Redis side by side, then print each run whole.

The two runs share nothing (each has its own database, cache prefix, upload folder and ports) and spend most of
their time waiting on servers they start, so on two cores they finish together in about the time of the longer one.
Exit status: the first failing run's, 0 when both pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

RUNS = (
    ("embedded", []),
    # Tests marked backend_independent (platform protocol tests with no database or cache) ran in the first pass.
    ("postgres", ["-m", "not backend_independent"]),
)


def main() -> int:
    extra = sys.argv[1:]
    started = time.monotonic()
    running = []
    for backend, args in RUNS:
        output = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
        # The browser tests run once, in the PostgreSQL pass (the production shape the console is tested on).
        browser = "1" if backend == "postgres" else "0"
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", *args, *extra],
            env={**os.environ, "TEST_BACKEND": backend, "TEST_BROWSER": browser},
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        running.append((backend, process, output))
    codes = [process.wait() for _, process, _ in running]
    # The timing first: each run's own closing line stays the last line of its part.
    print(f"both backends in {time.monotonic() - started:.0f} s", flush=True)
    for backend, _, output in running:
        output.seek(0)
        print(f"==================== TEST_BACKEND={backend} ====================", flush=True)
        sys.stdout.write(output.read())
        sys.stdout.flush()
    return next((code for code in codes if code), 0)


if __name__ == "__main__":
    sys.exit(main())
