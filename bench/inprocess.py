"""In-process latency through the Lambda handlers, interleaved, and warm request verification."""

from __future__ import annotations

import cProfile
import gc
import json
import pstats
import random
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bench.stats import percentile

Call = Callable[[], Any]


def interleaved(cases: Mapping[str, Call], *, rounds: int, batch: int,
                warmup: int = 300) -> dict[str, dict[str, float]]:
    """Per-request latency of each case, in µs: batches taken in turn, in a new order each round,
    so that a slower phase of the machine touches every case alike."""
    for call in cases.values():
        for _ in range(warmup):
            call()
    samples: dict[str, list[int]] = {name: [] for name in cases}
    order = list(cases)
    shuffle = random.Random(7).shuffle
    clock = time.perf_counter_ns
    for _ in range(rounds):
        shuffle(order)
        for name in order:
            call, out = cases[name], samples[name]
            for _ in range(batch):
                started = clock()
                call()
                out.append(clock() - started)
        gc.collect()  # a full collection between rounds, not inside one case's batch
    return {name: summary_us(values) for name, values in samples.items()}


def summary_us(values_ns: list[int]) -> dict[str, float]:
    return {"p50_us": round(percentile(values_ns, 50) / 1000, 1),
            "p99_us": round(percentile(values_ns, 99) / 1000, 1),
            "n": len(values_ns)}


# Where a turn of ours spends its time, by the functions that make up the request path.
PROFILE_PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "render: speech, reprompt, card (skill/output/render.py)": (("render.py", "render"),),
    "render: screen data (skill/output/render.py)": (("render.py", "screen"),),
    "state machine step (skill/core/machine.py)": (("machine.py", "step"),),
    "state from/to session attributes (skill/alexa/codec.py)": (
        ("codec.py", "state_from_dict"), ("codec.py", "state_to_dict")),
    "store: read and write (skill/storage/sqlite.py)": (("sqlite.py", "read"),
                                                        ("sqlite.py", "write")),
    "ASK: copy of the session attributes (AttributesManager)": (
        ("attributes_manager.py", "__init__"),),
    "envelope JSON -> ASK objects (skill/alexa/wire.py)": (("wire.py", "request_envelope"),),
    "ASK response -> JSON (skill/alexa/wire_response.py)": (("wire_response.py", "response_json"),),
    "request checks (skill/hosting/request_checks.py)": (("request_checks.py", "check_request"),),
    "the device's time zone (skill/alexa/timezone.py)": (("timezone.py", "zone"),),
}


def profile_shares(call: Call, repeat: int = 2000) -> dict[str, float]:
    """Share (%) of a turn's time in each part of ``PROFILE_PARTS``, from cProfile's cumulative
    times (the profiler slows small functions more: shares, not durations)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # (file, line, function) -> (cc, nc, tt, ct, callers)
    total = sum(tt for (_, _, tt, _, _) in stats.values())
    shares = {}
    for part, functions in PROFILE_PARTS.items():
        cumulative = sum(ct for (path, _, func), (_, _, _, ct, _) in stats.items()
                         if (Path(path).name, func) in functions)
        shares[part] = round(100 * cumulative / total, 1)
    return shares


def verification(verifier: Callable[[Mapping[str, str], bytes], None],
                 headers: Mapping[str, str], body: bytes, *, repeat: int = 3000) -> dict:
    """The verifier's first call (chain loaded and validated) and its warm calls, in µs."""
    started = time.perf_counter_ns()
    verifier(headers, body)
    cold_ns = time.perf_counter_ns() - started
    warm = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        verifier(headers, body)
        warm.append(time.perf_counter_ns() - started)
    return {"cold_us": round(cold_ns / 1000, 1), **summary_us(warm)}


def floor(envelope: Mapping[str, Any]) -> Call:
    """What any Python handler of this envelope must at least do: parse it, write an answer."""
    text = json.dumps(envelope)
    return lambda: json.dumps(json.loads(text))
