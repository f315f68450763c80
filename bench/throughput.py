"""HTTP throughput, p99 and memory of four servers on loopback, interleaved in rounds.

- ``echo``: a plain Flask echo on waitress, the framework floor;
- ``reference``: the hello-world skill behind Flask on waitress;
- ``ours``: ``knee-routine serve --dev`` (request verification off);
- ``ours_verified``: ``knee-routine serve`` as in production, verifying every request against
  a test CA (the chain pre-fetched with ``--chain-dir``, so nothing leaves the machine).

Every request is a real mid-routine envelope for one of many users, signed like Alexa's.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.load import Server, free_port, lua_script, run_wrk
from bench.scenario import Scenario, for_user, stamped_now
from bench.stats import median
from tests.support.envelopes import APP_ID

USERS = 64  # distinct users per run, each with their own row in the store
MIN_REQUESTS_FOR_MEMORY = 10_000
WARM_UP_S = 1  # before each measured run, the same load unmeasured

Signer = Callable[[bytes], dict[str, str]]


def knee_routine_command() -> list[str]:
    script = Path(sys.executable).with_name("knee-routine")
    found = str(script) if script.exists() else shutil.which("knee-routine")
    return [found] if found else [sys.executable, "-m", "skill.cli"]


def servers(workdir: Path, chain_files: tuple[Path, Path] | None) -> dict[str, Server]:
    python = sys.executable
    out = {
        "echo": [python, "-m", "bench.servers", "echo"],
        "reference": [python, "-m", "bench.servers", "hello"],
        "ours": [*knee_routine_command(), "serve", "--dev", "--skill-id", APP_ID,
                 "--db", str(workdir / "http-dev.sqlite3")],
    }
    if chain_files is not None:
        roots, chains = chain_files
        out["ours_verified"] = [*knee_routine_command(), "serve", "--skill-id", APP_ID,
                                "--db", str(workdir / "http-verified.sqlite3"),
                                "--trusted-roots", str(roots), "--chain-dir", str(chains)]
    made = {}
    for name, command in out.items():
        port = free_port()
        made[name] = Server(name, [*command, "--port", str(port)], port,
                            workdir / f"server-{name}.log", env=_server_env())
    return made


def _server_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KNEE_ROUTINE_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    return env


def requests_for(envelope: dict[str, Any], sign: Signer) -> list[tuple[bytes, dict[str, str]]]:
    """One signed request per user, stamped now."""
    out = []
    for n in range(USERS):
        event = stamped_now(for_user(envelope, f"bench-http-{n}"))
        body = json.dumps(event, ensure_ascii=False).encode("utf-8")
        out.append((body, sign(body)))
    return out


def measure(scenario: Scenario, workdir: Path, sign: Signer,
            chain_files: tuple[Path, Path] | None, *, expected: dict[str, Any], rounds: int,
            seconds: float,
            concurrency: tuple[int, ...] = (16, 64)) -> dict[str, Any]:
    targets = servers(workdir, chain_files)
    try:
        for server in targets.values():
            server.start()
        check_answers(targets, scenario, sign, expected)
        idle = {name: server.memory_kb()["rss_kb"] for name, server in targets.items()}
        results: dict[int, dict[str, list[dict]]] = {c: {n: [] for n in targets}
                                                      for c in concurrency}
        warm = _scripts(scenario, sign, workdir, "warm")
        for name, server in targets.items():  # first requests: caches, chain, SQLite pages
            run_wrk(server, warm[_body_kind(name)], connections=16, seconds=1)
        order = list(targets)
        shuffle = random.Random(3).shuffle
        for n in range(rounds):
            for connections in concurrency:
                scripts = _scripts(scenario, sign, workdir, f"r{n}c{connections}")
                shuffle(order)
                for name in order:
                    script = scripts[_body_kind(name)]
                    # unmeasured: a server idle while the others ran stalls as the load comes
                    # back (the hello-world as much as ours); the runs measure a steady load
                    run_wrk(targets[name], script, connections=connections, seconds=WARM_UP_S)
                    run = run_wrk(targets[name], script, connections=connections,
                                  seconds=seconds)
                    results[connections][name].append(run)
        memory = {}
        top_up = _scripts(scenario, sign, workdir, "top-up")
        for name, server in targets.items():
            while server.served < MIN_REQUESTS_FOR_MEMORY:
                run_wrk(server, top_up[_body_kind(name)], connections=16, seconds=2)
            memory[name] = {"idle_rss_kb": idle[name], **server.memory_kb(),
                            "requests_served": server.served}
    finally:
        for server in targets.values():
            server.stop()
    return {
        "rounds": rounds, "seconds_per_run": seconds, "users": USERS,
        "by_connections": {str(c): {name: _summary(runs) for name, runs in by_name.items()}
                           for c, by_name in results.items()},
        "memory": memory,
    }


def check_answers(targets: dict[str, Server], scenario: Scenario, sign: Signer,
                  expected_answer: dict[str, Any]) -> None:
    """Each server answers as in the conversation (not, say, with an apology), and the verifying
    one refuses an unsigned request: the runs measure what they claim to."""
    for name, server in targets.items():
        body, headers = requests_for(scenario.ours if name != "reference" else
                                     scenario.reference, sign)[0]
        status, answer = _post(server.url, body, headers)
        expected = expected_answer["response"] if name.startswith("ours") else None
        if status != 200 or (expected is not None and answer.get("response") != expected):
            raise RuntimeError(f"{name} answered {status} {str(answer)[:300]}")
    if "ours_verified" in targets:
        body, _ = requests_for(scenario.ours, sign)[0]
        status, _ = _post(targets["ours_verified"].url, body, {"Content-Type": "application/json"})
        if status != 400:
            raise RuntimeError(f"the verifying server answered {status} to an unsigned request")


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as e:
        return e.code, {}


def _body_kind(server_name: str) -> str:
    return "reference" if server_name == "reference" else "ours"


def _scripts(scenario: Scenario, sign: Signer, workdir: Path, tag: str) -> dict[str, Path]:
    paths = {}
    for kind, envelope in (("ours", scenario.ours), ("reference", scenario.reference)):
        path = workdir / f"wrk-{tag}-{kind}.lua"
        path.write_text(lua_script(requests_for(envelope, sign)), encoding="utf-8")
        paths[kind] = path
    return paths


def _summary(runs: list[dict]) -> dict[str, Any]:
    return {
        "rps": round(median([r["rps"] for r in runs]), 1),
        "p50_ms": round(median([r["p50_ms"] for r in runs]), 2),
        "p99_ms": round(median([r["p99_ms"] for r in runs]), 2),
        "cpu_ms_per_request": round(median([r["cpu_ms_per_request"] for r in runs]), 3),
        "errors": sum(r["errors"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "rps_each_round": [r["rps"] for r in runs],
    }
