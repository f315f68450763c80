"""HTTP load on loopback with wrk: servers as subprocesses, requests from a Lua script.

wrk (C, one thread, epoll) leaves the second core to the server under test; a Python client
would need a core of its own. Each wrk run replays a fixed set of prepared requests in turn
(many users, each with a real envelope) and reports through ``done()`` as JSON.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

LUA_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "status_errors": %d, '
    .. '"socket_errors": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def wrk_path() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise RuntimeError("wrk is not installed: run `make bench` (it installs wrk from apt), "
                           "or `apt-get install wrk`")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    name: str
    command: list[str]
    port: int
    log: Path
    env: dict[str, str] | None = None
    process: subprocess.Popen | None = None
    served: int = 0  # requests sent by wrk so far
    runs: list[dict] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/alexa"

    def start(self, timeout_s: float = 30) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                            env=self.env)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} server exited:\n{self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} server did not start in {timeout_s} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cpu_seconds(self) -> float:
        """User and system CPU time the server process has used so far (all its threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_kb(self) -> dict[str, int]:
        """Resident set now and its peak (``VmRSS``, ``VmHWM`` of /proc/PID/status), in KiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        values = {}
        for line in status.splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
        return {"rss_kb": values["VmRSS"], "peak_rss_kb": values["VmHWM"]}


def lua_script(requests: list[tuple[bytes, dict[str, str]]]) -> str:
    """A wrk script that sends ``requests`` (body, headers) in turn, as POST /alexa."""
    lines = ["local requests = {}"]
    for body, headers in requests:
        text = body.decode("utf-8")
        level = "=" * 3
        while f"]{level}]" in text:
            level += "="
        header_table = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}"
                                 for k, v in headers.items())
        lines.append(f'requests[#requests + 1] = wrk.format("POST", "/alexa", '
                     f"{{{header_table}}}, [{level}[{text}]{level}])")
    lines.append("local i = 0")
    lines.append("request = function()\n  i = i % #requests + 1\n  return requests[i]\nend")
    return "\n".join(lines) + LUA_DONE


def run_wrk(server: Server, script: Path, *, connections: int, seconds: float) -> dict:
    """One wrk run against ``server``: throughput, p50/p99 latency and errors."""
    command = [wrk_path(), "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s",
               "-s", str(script), server.url]
    cpu_before = server.cpu_seconds()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    cpu_used = server.cpu_seconds() - cpu_before
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed against {server.name}: {done.stderr[-1000:]}")
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary against {server.name}:\n{done.stdout}")
    summary = json.loads(line)
    server.served += summary["requests"]
    seconds_run = summary["duration_us"] / 1e6
    return {
        "rps": round(summary["requests"] / seconds_run, 1),
        "p50_ms": round(summary["p50_us"] / 1000, 2),
        "p99_ms": round(summary["p99_us"] / 1000, 2),
        "requests": summary["requests"],
        "errors": summary["status_errors"] + summary["socket_errors"],
        # the server's CPU per request: steadier than requests/s on a machine others share
        "cpu_ms_per_request": round(cpu_used * 1000 / max(1, summary["requests"]), 3),
    }
