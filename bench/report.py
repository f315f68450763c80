"""The results as Markdown tables (stdout, and the README's "Performance" section)."""

from __future__ import annotations

from typing import Any

NAMES = {
    "floor": "floor: `json.loads` + `json.dumps`",
    "reference": "ASK hello-world (reference)",
    "ours": "Knee Routine",
    "baseline": "interpreter alone (`python` + reading the envelope)",
    "echo": "Flask echo on waitress (floor)",
    "ours_verified": "Knee Routine, verification on",
    "ours_dynamodb": "Knee Routine, DynamoDB store",
    "reference_dynamodb": "ASK hello-world with the ASK DynamoDB adapter",
}


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    parts = [f"Machine: {m['nproc']} CPUs ({m['cpu_model']}), Python {m['python']}, "
             f"{m['os']}; load average at start {m['loadavg_start']}. Run {results['when']}."]
    ip = results["in_process"]
    cases = ip["cases"]
    rows = [[NAMES[k], "", cases[k]["p50_us"], cases[k]["p99_us"], "1.00" if k == "reference"
             else ""] for k in ("floor", "reference")]
    for name, case in cases.items():
        if "ratio_p50" in case:
            kind, device = name.split(" / ")
            rows.append([f"Knee Routine: {kind}", device, case["p50_us"], case["p99_us"],
                         f"{case['ratio_p50']:.2f}"])
    parts.append("**In process**, per request through the Lambda handler (SQLite store; the "
                 "hello-world answers its intent; every case interleaved in one run), µs:\n\n"
                 + _table(["", "device", "p50", "p99", "p50 / hello-world"], rows))
    if "profile" in ip:
        devices = list(ip["profile"])
        parts_ = list(ip["profile"][devices[0]])
        rows = [[k, *(ip["profile"][d][k] for d in devices)] for k in parts_]
        rows.append(["other: ASK dispatch, handlers, the turn's glue",
                     *(round(100 - sum(ip["profile"][d].values()), 1) for d in devices)])
        parts.append("Where a \"next\" (timed set) turn spends its time (cProfile, share of the "
                     "turn, %):\n\n" + _table(["part", *devices], rows))
    v = results.get("verification")
    if v:
        parts.append(f"**Request verification** (signature, chain cache, timestamp), warm: "
                     f"p50 {v['p50_us']} µs, p99 {v['p99_us']} µs; first request (chain "
                     f"loaded and validated) {v['cold_us'] / 1000:.1f} ms.")
    cs = results.get("cold_start")
    if cs:
        kinds = [k for k in ("baseline", "reference", "ours", "reference_dynamodb",
                             "ours_dynamodb") if k in cs]
        rows = [[NAMES[k], cs[k]["wall_ms"], cs[k].get("net_ms", ""), cs[k]["cpu_ms"],
                 cs[k]["import_ms"], cs[k]["answer_ms"], cs[k]["peak_rss_mib"]] for k in kinds]
        ratios = f"SQLite {cs['ratio_wall']}"
        if "ratio_wall_ours_dynamodb" in cs:
            ratios += (f", DynamoDB {cs['ratio_wall_ours_dynamodb']} (peak memory "
                       f"{cs['ratio_peak_rss_ours_dynamodb']})")
        parts.append(f"**Cold start**: a new process imports the Lambda handler and answers a "
                     f"LaunchRequest of a new user (median of {cs['rounds']}; DynamoDB is moto's "
                     f"server on loopback), ms; peak memory of the process (Lambda mode), MiB. "
                     f"Ours / hello-world, wall: {ratios}:\n\n"
                     + _table(["", "wall", "net", "CPU", "import", "first answer",
                               "peak MiB"], rows))
        ours, ref = cs["imports"]["ours"], cs["imports"]["reference"]
        rows = [[name, ms, ref.get(name, 0)] for name, ms in list(ours.items())[:10]]
        parts.append("Import time by package (`-X importtime`, self times summed, ms):\n\n"
                     + _table(["package", "Knee Routine", "hello-world"], rows))
    http = results.get("http")
    if http:
        rows = []
        for connections, by_name in http["by_connections"].items():
            for name, r in by_name.items():
                rows.append([NAMES[name], connections, r["rps"], r["p50_ms"], r["p99_ms"],
                             r["errors"]])
        parts.append(f"**HTTP** on loopback, wrk, {http['users']} users, median of "
                     f"{http['rounds']} runs of {http['seconds_per_run']:g} s:\n\n"
                     + _table(["server", "connections", "requests/s", "p50 ms", "p99 ms",
                               "errors"], rows))
        rows = [[NAMES[name], f"{mem['idle_rss_kb'] / 1024:.1f}",
                 f"{mem['peak_rss_kb'] / 1024:.1f}", mem["requests_served"]]
                for name, mem in http["memory"].items()]
        parts.append("**Server memory** (one waitress process per server, 8 threads), MiB:\n\n"
                     + _table(["server", "RSS idle", "peak RSS", "after requests"], rows))
    rows = [[t["name"], t["target"], t["value"], "met" if t["met"] else "**missed**"]
            for t in results["targets"]]
    parts.append("**Targets**:\n\n" + _table(["", "target", "measured", ""], rows))
    return "\n\n".join(parts)
