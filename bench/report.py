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


# -- the README's figures ---------------------------------------------------------------------

README_NAMES = {
    "baseline": "interpreter alone", "reference": "ASK hello-world",
    "ours": "Knee Routine (SQLite)",
    "reference_dynamodb": "ASK hello-world + ASK DynamoDB adapter",
    "ours_dynamodb": "Knee Routine (DynamoDB)",
}
HTTP_NAMES = {"echo": "Flask echo (floor)", "reference": "ASK hello-world behind Flask",
              "ours": "Knee Routine, verification off",
              "ours_verified": "Knee Routine, verification on"}


def readme(results: dict[str, Any]) -> str:
    """The README's "Performance" tables from one run's figures (``python -m bench.report``)."""
    cases = results["in_process"]["cases"]
    rows = [["floor: `json.loads` + `json.dumps`", round(cases["floor"]["p50_us"]), "", "", ""],
            ["ASK hello-world, its intent", round(cases["reference"]["p50_us"]), "1.00", "", ""]]
    kinds = dict.fromkeys(name.split(" / ")[0] for name in cases if " / " in name)
    for kind in kinds:
        speaker, show = cases[f"{kind} / speaker"], cases[f"{kind} / show"]
        rows.append([f"Knee Routine: {kind}", round(speaker["p50_us"]),
                     f"**{speaker['ratio_p50']:.2f}**", round(show["p50_us"]),
                     f"**{show['ratio_p50']:.2f}**"])
    tables = [_table(["per request, in process", "speaker p50 µs", "ratio", "Echo Show p50 µs",
                      "ratio"], rows)]
    cs = results.get("cold_start")
    if cs:
        rows = []
        for kind, name in README_NAMES.items():
            if kind not in cs:
                continue
            c, wall = cs[kind], f"{round(cs[kind]['wall_ms'])}"
            if f"ratio_wall_{kind}" in cs:
                wall += f" (**{cs[f'ratio_wall_{kind}']:.2f}×**)"
            timed = kind != "baseline"
            rows.append([name, wall, round(c["cpu_ms"]), round(c["import_ms"]) if timed else "",
                         round(c["answer_ms"], 1) if timed else "", c["peak_rss_mib"]])
        tables.append(_table(["cold start", "to the answer, ms", "CPU ms", "import ms",
                              "first answer ms", "peak MiB"], rows))
    http = results.get("http")
    if http:
        rows = []
        for kind, name in HTTP_NAMES.items():
            low, high = http["by_connections"]["16"][kind], http["by_connections"]["64"][kind]
            peak = http["memory"][kind]["peak_rss_kb"] / 1024
            rows.append([name, round(low["rps"]), round(low["p99_ms"]), round(high["rps"]),
                         round(high["p99_ms"]), round(peak, 1)])
        tables.append(_table(["HTTP (loopback)", "16 conn.: req/s", "p99 ms", "64 conn.: req/s",
                              "p99 ms", "peak RSS MiB"], rows))
    rows = [[t["name"], t["target"], t["value"], "met" if t["met"] else "**missed**"]
            for t in results["targets"]]
    tables.append(_table(["target (ratios from one interleaved run)", "target", "measured", ""],
                         rows))
    return "\n\n".join(tables)


if __name__ == "__main__":
    import json
    import sys
    from pathlib import Path

    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("results") / \
        "latest.json"
    print(readme(json.loads(path.read_text(encoding="utf-8"))))
