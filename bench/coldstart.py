"""Cold start: fresh processes that import a Lambda handler and answer one LaunchRequest."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.envelopes import APP_ID

from bench.stats import median

CHILD = Path(__file__).with_name("cold_child.py")
ROOT = Path(__file__).resolve().parent.parent
KINDS = ("baseline", "reference", "ours")


def run_once(kind: str, envelope: Path, workdir: Path, n: int, importtime: bool = False
             ) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KNEE_ROUTINE_SKILL_ID": APP_ID,
           "KNEE_ROUTINE_DB": str(workdir / f"cold-{kind}-{n}.sqlite3")}  # /tmp is new, too
    env.pop("KNEE_ROUTINE_TABLE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    command = [sys.executable, *(["-X", "importtime"] if importtime else []), str(CHILD), kind,
               str(envelope)]
    log = workdir / f"cold-{kind}.stderr"
    with log.open("w+", encoding="utf-8") as stderr:
        started = time.perf_counter()
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=stderr,
                                 text=True)
        line = child.stdout.readline()  # printed right after the answer: Lambda stops here
        answer_ms = (time.perf_counter() - started) * 1000
        child.stdout.close()
        child.wait()
    if child.returncode != 0 or not line:
        raise RuntimeError(f"cold start of {kind} failed:\n{log.read_text()[-2000:]}")
    result = json.loads(line)
    if not result["answered"]:
        raise RuntimeError(f"cold start of {kind} gave no response")
    result["wall_ms"] = answer_ms
    if importtime:
        result["imports"] = top_imports(log.read_text())
    return result


def measure(launch: dict[str, Any], workdir: Path, rounds: int) -> dict[str, Any]:
    """Median wall time (process start to the answer written out: what Lambda waits for; the
    process is frozen, not ended, after it) and in-process times per kind, interleaved."""
    envelope = workdir / "launch.json"
    envelope.write_text(json.dumps(launch), encoding="utf-8")
    for kind in KINDS:  # compiles the .pyc files, as a deployed package has them
        run_once(kind, envelope, workdir, -1)
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in KINDS}
    order = list(KINDS)
    shuffle = random.Random(11).shuffle
    for n in range(rounds):
        shuffle(order)
        for kind in order:
            runs[kind].append(run_once(kind, envelope, workdir, n))
    out: dict[str, Any] = {"rounds": rounds}
    for kind in KINDS:
        out[kind] = {key: round(median([r[key] for r in runs[kind]]), 1)
                     for key in ("wall_ms", "cpu_ms", "import_ms", "answer_ms")}
    base = out["baseline"]["wall_ms"]
    for kind in ("reference", "ours"):
        out[kind]["net_ms"] = round(out[kind]["wall_ms"] - base, 1)
    out["imports"] = {kind: _median_imports(kind, envelope, workdir)
                      for kind in ("reference", "ours")}
    return out


def _median_imports(kind: str, envelope: Path, workdir: Path, runs: int = 5) -> dict[str, float]:
    logs = [run_once(kind, envelope, workdir, 1000 + n, importtime=True)["imports"]
            for n in range(runs)]
    packages = {name for log in logs for name in log}
    medians = {name: round(median([log.get(name, 0.0) for log in logs]), 1) for name in packages}
    return dict(sorted(medians.items(), key=lambda item: -item[1]))


def top_imports(importtime_log: str, min_ms: float = 0.5) -> dict[str, float]:
    """Import time (ms, self times summed) per top-level package of a ``-X importtime`` log,
    costliest first: where the import part of a cold start goes (the log itself slows it)."""
    by_package: dict[str, int] = {}
    for line in importtime_log.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = [part.strip() for part in line[len("import time:"):].split("|")]
        if len(fields) != 3 or not fields[0].isdigit():
            continue  # the header line
        package = fields[2].split(".")[0]
        by_package[package] = by_package.get(package, 0) + int(fields[0])
    ranked = sorted(by_package.items(), key=lambda item: -item[1])
    return {name: round(us / 1000, 1) for name, us in ranked if us >= min_ms * 1000}
