"""``knee-routine serve`` started as an operator starts it, on a free loopback port."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support.helpers import free_port


def command() -> list[str]:
    script = Path(sys.executable).with_name("knee-routine")
    return [str(script)] if script.exists() else [shutil.which("knee-routine") or "knee-routine"]


@dataclass
class LiveServer:
    base_url: str
    db: Path
    log: Path
    process: subprocess.Popen

    @property
    def alexa_url(self) -> str:
        return f"{self.base_url}/alexa"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def json_lines(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.output().split("\n"):
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    def record(self, user_id: str) -> dict[str, Any] | None:
        """The stored attributes of one user, read straight from the SQLite file."""
        with sqlite3.connect(self.db) as conn:
            row = conn.execute("SELECT attributes FROM user_attributes WHERE user_id = ?",
                               (user_id,)).fetchone()
        return None if row is None else json.loads(row[0])


@contextmanager
def knee_routine_serve(tmp: Path, *args: str) -> Iterator[LiveServer]:
    """Run ``knee-routine serve --port N --db tmp/store.sqlite3 *args`` until the block ends."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    db, log = tmp / "store.sqlite3", tmp / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KNEE_ROUTINE_")}
    with log.open("w") as out:
        process = subprocess.Popen(
            [*command(), "serve", "--port", str(port), "--db", str(db), *args],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", db, log, process)
    try:
        _wait_until_up(server)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_up(server: LiveServer) -> None:
    for _ in range(300):
        if server.process.poll() is not None:
            raise RuntimeError(f"knee-routine serve exited:\n{server.output()}")
        try:
            if requests.get(f"{server.base_url}/health", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError(f"knee-routine serve did not come up:\n{server.output()}")
