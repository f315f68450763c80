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

from bench import coldstart, dynamo, inprocess, report, throughput
from bench.scenario import (
    DEVICES,
    MEASURED,
    Scenario,
    build_scenario,
    check_turns,
    environment,
    scratch_dir,
    stamped_now,
    store_path,
)
from bench.stats import ratio
from tests.support.envelopes import APP_ID

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
            expected = results["in_process"]["answers"][scenario.turn(MEASURED, "speaker").name]
            results["http"] = throughput.measure(
                scenario, workdir, sign, signing["files"] if signing else None, expected=expected,
                rounds=2 if args.quick else 5, seconds=2 if args.quick else 5)
        results["targets"] = targets(results)
        results["in_process"].pop("answers")  # checked and used; not figures
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
    """Every kind of turn on both devices, and the hello-world's intent, through the Lambda
    handlers, interleaved; ratios of p50s to the hello-world's."""
    import skill.lambda_function as lambda_function
    from bench.hello_world import lambda_handler as reference

    with environment(KNEE_ROUTINE_DB=str(store_path(workdir)),
                     KNEE_ROUTINE_SKILL_ID=APP_ID, KNEE_ROUTINE_TABLE=None):
        lambda_function._runtime = None
        ours = lambda_function.handler
        answers = check_turns(scenario, ours)
        if "Hello World" not in json.dumps(reference(scenario.reference, None)):
            raise RuntimeError("the hello-world did not answer its intent")
        cases: dict[str, Callable[[], Any]] = {
            "floor": inprocess.floor(scenario.ours),
            "reference": lambda: reference(scenario.reference, None),
            **{turn.name: turn.caller(ours) for turn in scenario.turns},
        }
        out: dict[str, Any] = {"cases": inprocess.interleaved(
            cases, rounds=8 if quick else 30, batch=60 if quick else 150, warmup=100)}
        base = out["cases"]["reference"]
        for turn in scenario.turns:
            case = out["cases"][turn.name]
            case["ratio_p50"] = ratio(case["p50_us"], base["p50_us"])
            case["ratio_p99"] = ratio(case["p99_us"], base["p99_us"])
        out["profile"] = {device: inprocess.profile_shares(
            cases[scenario.turn(MEASURED, device).name], 300 if quick else 1500)
            for device in DEVICES}
        lambda_function._runtime = None
    out["answers"] = answers
    out["request_bytes"] = len(json.dumps(scenario.ours, ensure_ascii=False).encode())
    out["response_bytes"] = {name: len(json.dumps(a, ensure_ascii=False).encode())
                             for name, a in answers.items()}
    return out


def signing_pki(workdir: Path) -> dict[str, Any] | None:
    """Alexa's signing PKI, stood in for by the tests' CA; None when it cannot be built."""
    try:
        from tests.support.alexa_ca import default_ca, default_leaf, signed_headers
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
    """Cold starts with SQLite and, against moto's DynamoDB server on loopback, with DynamoDB
    (the hello-world then carries Amazon's DynamoDB adapter); one interleaved run."""
    rounds = 6 if quick else 20
    try:
        endpoint = dynamo.moto_server(workdir)
        url = endpoint.__enter__()
    except (ImportError, RuntimeError) as e:  # moto or boto3 missing: SQLite only
        progress(f"no DynamoDB server ({e}): cold start with SQLite only")
        endpoint, url = None, None
    try:
        out = coldstart.measure(scenario.launch, workdir, rounds=rounds, dynamodb_endpoint=url)
    finally:
        if endpoint is not None:
            endpoint.__exit__(None, None, None)
    for ours, reference in (("ours", "reference"), ("ours_dynamodb", "reference_dynamodb")):
        if ours in out:
            out[f"ratio_wall_{ours}"] = ratio(out[ours]["wall_ms"], out[reference]["wall_ms"])
            out[f"ratio_peak_rss_{ours}"] = ratio(out[ours]["peak_rss_mib"],
                                                  out[reference]["peak_rss_mib"])
    out["ratio_wall"] = out["ratio_wall_ours"]
    out["ratio_net"] = ratio(out["ours"]["net_ms"], out["reference"]["net_ms"])
    out["ratio_cpu"] = ratio(out["ours"]["cpu_ms"], out["reference"]["cpu_ms"])
    return out


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target of the skill's speed issues, with its measured ratio: met or missed."""
    out = []

    def target(name: str, wanted: str, value: float | None, met: bool) -> None:
        out.append({"name": name, "target": wanted, "value": value, "met": met})

    for name, case in results["in_process"]["cases"].items():
        if "ratio_p50" in case:
            target(f"in process, {name}: p50 / hello-world intent p50", "≤ 0.8×",
                   case["ratio_p50"], case["ratio_p50"] <= 0.8)
    cs = results.get("cold_start")
    if cs:
        target("cold start, SQLite: wall time / hello-world", "≤ 1.2×", cs["ratio_wall"],
               cs["ratio_wall"] <= 1.2)
        if "ratio_wall_ours_dynamodb" in cs:
            value = cs["ratio_wall_ours_dynamodb"]
            target("cold start, DynamoDB: wall time / hello-world with the ASK DynamoDB adapter",
                   "≤ 1.0×", value, value <= 1.0)
            value = cs["ratio_peak_rss_ours_dynamodb"]
            target("Lambda peak memory, DynamoDB: / hello-world with the ASK DynamoDB adapter",
                   "≤ 1.0×", value, value <= 1.0)
    if results.get("verification"):
        p50 = results["verification"]["p50_us"]
        target("warm request verification, p50 µs", "≤ 50 µs", p50, p50 <= 50)
    http = results.get("http")
    if http:
        for connections, by in http["by_connections"].items():
            value = ratio(by["ours"]["rps"], by["reference"]["rps"])
            target(f"HTTP requests/s, verification off, c={connections}: / hello-world on Flask",
                   "≥ 1.0×", value, value >= 1.0)
            if "ours_verified" in by:
                value = ratio(by["ours_verified"]["rps"], by["reference"]["rps"])
                target(f"HTTP requests/s, verification on, c={connections}: / hello-world "
                       "on Flask", "≥ 0.9×", value, value >= 0.9)
        by = http["by_connections"].get("64")
        if by:
            for name in ("ours", "ours_verified"):
                if name in by:
                    value = ratio(by[name]["p99_ms"], by["reference"]["p99_ms"])
                    target(f"HTTP p99 at c=64, {report.NAMES[name]}: / hello-world on Flask",
                           "≤ 1.0×", value, value <= 1.0)
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
