"""How long `make run` takes until the console chat greets the demo member: on a database
that does not exist yet (migrate and seed first), then warm (everything there), and with
--fresh-venv also from a copy of the tree with no .venv (the first `make run` of a fresh
clone, pip install included).

    .venv/bin/python benchmarks/make_run.py [--fresh-venv] [--runs 3]

Prints `name: value` lines, seconds."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GREETING = "Chào đồng chí"


def until_greeting(cwd: Path, env: dict[str, str]) -> float:
    """Seconds from `make run` to the greeting; then the input ends and the chat leaves."""
    started = time.perf_counter()
    process = subprocess.Popen(
        ["make", "--no-print-directory", "run"],
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    ready = None
    for line in process.stdout:
        if GREETING in line:
            ready = time.perf_counter() - started
            break
    process.stdin.close()
    rest = process.stdout.read()
    process.wait(timeout=120)
    if ready is None or process.returncode != 0:
        raise SystemExit(f"make run failed ({process.returncode}):\n{rest}")
    return ready


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fresh-venv", action="store_true", help="also time a fresh clone")
    parser.add_argument("--runs", type=int, default=3, help="warm runs (the best is shown)")
    args = parser.parse_args()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "ZALO_", "SOTAY_"))
    }
    with tempfile.TemporaryDirectory() as folder:
        env["SOTAY_DATABASE_URL"] = f"sqlite:///{Path(folder) / 'sotay.db'}"
        if args.fresh_venv:
            clone = Path(folder) / "clone"
            subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
            print(f"make_run_fresh_clone_s: {until_greeting(clone, env):.2f}")
            shutil.rmtree(clone)
            Path(folder, "sotay.db").unlink()
        print(f"make_run_new_database_s: {until_greeting(ROOT, env):.2f}")
        warm = min(until_greeting(ROOT, env) for _ in range(args.runs))
        print(f"make_run_warm_s: {warm:.2f}")


if __name__ == "__main__":
    main()
