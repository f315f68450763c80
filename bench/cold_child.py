"""One cold start, run as a fresh process: import a Lambda handler, answer one request.

``python bench/cold_child.py KIND ENVELOPE.json`` prints, as JSON, the milliseconds spent
importing the handler and answering, measured inside the process, and the process's peak memory
to that point (what a Lambda container holds). KIND: ``ours`` and ``ours_dynamodb`` (the skill;
the environment names its store), ``reference`` (the hello-world), ``reference_dynamodb`` (the
hello-world with Amazon's DynamoDB adapter), ``baseline`` (the interpreter alone).
"""

import time

_STARTED = time.perf_counter()

import json  # noqa: E402 (timed from the first line)
import sys  # noqa: E402


def peak_rss_kb() -> int:
    """The process's peak resident set (``VmHWM``, KiB): reset by exec, unlike ``ru_maxrss``,
    which keeps the forking parent's."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main() -> None:
    which, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        event = json.load(f)
    before_import = time.perf_counter()
    if which in ("ours", "ours_dynamodb"):
        from skill.lambda_function import handler
    elif which == "reference":
        from bench.hello_world import lambda_handler as handler
    elif which == "reference_dynamodb":
        from bench.hello_world_dynamo import lambda_handler as handler
    else:  # the interpreter alone, reading the envelope
        def handler(event, context):
            return {"version": "1.0", "response": {}}
    imported = time.perf_counter()
    answer = handler(event, None)
    answered = time.perf_counter()
    print(json.dumps({
        "import_ms": (imported - before_import) * 1000,
        "answer_ms": (answered - imported) * 1000,
        "in_process_ms": (answered - _STARTED) * 1000,
        "cpu_ms": time.process_time() * 1000,  # CPU since the process began, to the answer
        "answered": bool(answer.get("response") is not None),
        "peak_rss_kb": peak_rss_kb(),
    }), flush=True)


if __name__ == "__main__":
    main()
