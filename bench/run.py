"""``make bench``: Knee Routine against the minimal ASK hello-world, side by side, in one run.

``python -m bench.run [--quick] [--skip-http] [--skip-cold-start] [--out FILE]`` prints Markdown
tables and writes every figure as JSON (default ``bench/results/latest.json``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.envelopes import APP_ID

from bench import coldstart, inprocess, report, throughput
from bench.scenario import Scenario, build_scenario, environment, scratch_dir, stamped_now
from bench.stats import ratio

RESULTS = Path(__file__).with_name("results") / "latest.json"
PACKAGES = ("ask-sdk-core", "ask-sdk-model", "PyYAML", "Flask", "waitress", "cryptography")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run)")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-cold-start", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    workdir = scratch_dir()
    results: dict[str, Any] = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                               "machine": machine(), "quick": args.quick}
    try:
        scenario = build_scenario(workdir)
        signing = signing_pki(workdir)
        progress("in-process latency")
        results["in_process"] = in_process(scenario, workdir, quick=args.quick)
        if signing is not None:
            progress("request verification")
            results["verification"] = verification(scenario, signing)
        if not args.skip_cold_start:
            progress("cold start")
            results["cold_start"] = cold_start(scenario, workdir, quick=args.quick)
        if not args.skip_http:
            progress("HTTP throughput (a few minutes)")
            sign = signing["sign"] if signing else (lambda body: {
                "Content-Type": "application/json"})
            results["http"] = throughput.measure(
                scenario, workdir, sign, signing["files"] if signing else None,
                rounds=2 if args.quick else 3, seconds=2 if args.quick else 5)
        results["targets"] = targets(results)
    finally:
        results["machine"]["loadavg_end"] = _loadavg()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    print(report.markdown(results))
    print(f"\nAll figures: {args.out}")
    return 0


def progress(what: str) -> None:
    print(f"bench: {what}...", file=sys.stderr, flush=True)


# -- the parts --------------------------------------------------------------------------------


def in_process(scenario: Scenario, workdir: Path, *, quick: bool) -> dict[str, Any]:
    import skill.lambda_function as lambda_function
    from bench.hello_world import lambda_handler as reference

    with environment(KNEE_ROUTINE_DB=str(workdir / "in-process.sqlite3"),
                     KNEE_ROUTINE_SKILL_ID=APP_ID, KNEE_ROUTINE_TABLE=None):
        lambda_function._runtime = None
        ours = lambda_function.handler
        if ours(scenario.ours, None) != scenario.ours_answer:
            raise RuntimeError("the measured turn does not answer as it did in the conversation")
        if "Hello World" not in json.dumps(reference(scenario.reference, None)):
            raise RuntimeError("the hello-world did not answer its intent")
        cases: dict[str, Callable[[], Any]] = {
            "floor": inprocess.floor(scenario.ours),
            "reference": lambda: reference(scenario.reference, None),
            "ours": lambda: ours(scenario.ours, None),
        }
        out: dict[str, Any] = inprocess.interleaved(
            cases, rounds=10 if quick else 40, batch=100 if quick else 250)
        out["ratio_p50"] = ratio(out["ours"]["p50_us"], out["reference"]["p50_us"])
        out["ratio_p99"] = ratio(out["ours"]["p99_us"], out["reference"]["p99_us"])
        out["profile"] = inprocess.profile_shares(cases["ours"], 500 if quick else 2000)
        lambda_function._runtime = None
    out["request_bytes"] = len(json.dumps(scenario.ours, ensure_ascii=False).encode())
    out["response_bytes"] = len(json.dumps(scenario.ours_answer, ensure_ascii=False).encode())
    return out


def signing_pki(workdir: Path) -> dict[str, Any] | None:
    """Alexa's signing PKI, stood in for by the tests' CA; None when it cannot be built."""
    try:
        from tests.alexa_ca import default_ca, default_leaf, signed_headers
    except ImportError as e:  # cryptography missing: no verified runs
        progress(f"no test CA ({e}): verification is not measured")
        return None
    ca, leaf = default_ca(), default_leaf()
    roots, chains = ca.write_files(workdir / "pki", leaf)
    return {"ca": ca, "files": (roots, chains), "sign": lambda body: signed_headers(leaf, body)}


def verification(scenario: Scenario, signing: dict[str, Any]) -> dict[str, Any] | None:
    try:
        from skill.hosting.verifier import AlexaVerifier, ChainDirectory
    except ImportError as e:
        progress(f"skill.hosting.verifier is not available ({e}): verification is not measured")
        return None
    from werkzeug.datastructures import Headers  # what Flask hands the verifier

    roots, chains = signing["files"]
    verifier = AlexaVerifier(trusted_roots=[signing["ca"].root], fetch=ChainDirectory(chains))
    body = json.dumps(stamped_now(scenario.ours), ensure_ascii=False).encode("utf-8")
    return inprocess.verification(verifier, Headers(signing["sign"](body)), body)


def cold_start(scenario: Scenario, workdir: Path, *, quick: bool) -> dict[str, Any]:
    out = coldstart.measure(scenario.launch, workdir, rounds=8 if quick else 30)
    out["ratio_wall"] = ratio(out["ours"]["wall_ms"], out["reference"]["wall_ms"])
    out["ratio_net"] = ratio(out["ours"]["net_ms"], out["reference"]["net_ms"])
    out["ratio_cpu"] = ratio(out["ours"]["cpu_ms"], out["reference"]["cpu_ms"])
    return out


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []

    def target(name: str, wanted: str, value: float | None, met: bool) -> None:
        out.append({"name": name, "target": wanted, "value": value, "met": met})

    ip = results["in_process"]
    target("in-process p50, ours / hello-world", "≤ 1.0×", ip["ratio_p50"],
           ip["ratio_p50"] <= 1.0)
    if "cold_start" in results:
        cs = results["cold_start"]
        target("cold start (process wall time), ours / hello-world", "≤ 1.2×",
               cs["ratio_wall"], cs["ratio_wall"] <= 1.2)
    if results.get("verification"):
        p50 = results["verification"]["p50_us"]
        target("warm request verification, p50 µs", "≤ 50 µs", p50, p50 <= 50)
    http = results.get("http")
    if http and all("ours_verified" in by for by in http["by_connections"].values()):
        worst = min(ratio(by["ours_verified"]["rps"], by["ours"]["rps"])
                    for by in http["by_connections"].values())
        target("verified / unverified HTTP throughput (worst of 16, 64 connections)",
               "≥ 0.8×", worst, worst >= 0.8)
    return out


# -- the machine ------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "python": platform.python_version(),
        "os": platform.platform(terse=True),
        "packages": {name: _version(name) for name in PACKAGES},
        "wrk": _wrk_version(),
        "loadavg_start": _loadavg(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def _wrk_version() -> str | None:
    path = shutil.which("wrk")
    if path is None:
        return None
    done = subprocess.run([path, "-v"], capture_output=True, text=True, check=False)
    lines = (done.stdout + done.stderr).splitlines()
    return lines[0].split(" [")[0] if lines else None


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
