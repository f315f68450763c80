"""The Lambda artifact (scripts/package_lambda.py: `make package`, `sam build`) works alone.

It is unpacked into an empty directory and run by a clean Python (``-I -S``: no project, no
site-packages, no environment variables of Python's) the way the Lambda runtime runs it: the
artifact's root on ``sys.path``, ``handler(event, context)`` called per request, the code
directory treated as read-only, only the temporary directory writable.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from skill.content.loader import LOCALES, load_content
from tests.storage.test_dynamodb import Dynamo, aws_env, moto_server
from tests.support.envelopes import Session

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "package_lambda.py"
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath")

# The Lambda runtime's part: put the task root (then what the runtime provides) on sys.path,
# import the handler once, call it per request with a context object.
BOOTSTRAP = """
import json, sys
sys.path[:0] = sys.argv[1:]
from skill.lambda_function import handler

class Context:
    function_name = "knee-routine"
    aws_request_id = "local-test"
    def get_remaining_time_in_millis(self):
        return 7000

for line in sys.stdin:
    print(json.dumps(handler(json.loads(line), Context())), flush=True)
"""


def _package_lambda():
    spec = importlib.util.spec_from_file_location("package_lambda", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, str]:
    """(the zip, the Python to run it): for the Lambda runtime's Python where this machine has
    one (aarch64 extension modules then stay unused and their pure-Python fallbacks run), else
    for this machine's Python and CPU."""
    package_lambda = _package_lambda()
    python = package_lambda.find_python()
    args = []
    if python is None:
        python = getattr(sys, "_base_executable", sys.executable)
        args = ["--platform", f"manylinux2014_{platform.machine()}"]
    out = tmp_path_factory.mktemp("package") / "knee-routine-lambda.zip"
    result = subprocess.run([sys.executable, str(SCRIPT), "--zip", str(out), "--python", python,
                             *args], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    return out, python


@pytest.fixture
def task_root(built, tmp_path) -> Path:
    """The artifact unpacked into an empty directory, as Lambda does into /var/task."""
    root = tmp_path / "task"
    root.mkdir()
    with zipfile.ZipFile(built[0]) as zf:
        zf.extractall(root)
    return root


def _snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in root.rglob("*")}


@contextmanager
def lambda_container(python: str, task_root: Path, tmp: Path, env: dict[str, str] | None = None,
                     provided: Path | None = None) -> Iterator:
    """A process that answers envelopes like one warm Lambda container."""
    tmp.mkdir(exist_ok=True)
    clean_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                 "HOME": str(tmp), "TMPDIR": str(tmp), "LAMBDA_TASK_ROOT": str(task_root),
                 "AWS_LAMBDA_FUNCTION_NAME": "knee-routine", **(env or {})}
    paths = [str(task_root)] + ([str(provided)] if provided else [])
    log = tmp.parent / f"{tmp.name}-stderr.log"  # what CloudWatch would get
    with log.open("w") as stderr:
        proc = subprocess.Popen([python, "-I", "-S", "-c", BOOTSTRAP, *paths], cwd=task_root,
                                env=clean_env, text=True, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=stderr)

    def send(envelope: dict) -> dict:
        proc.stdin.write(json.dumps(envelope) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            proc.stdin.close()
            pytest.fail(f"the artifact failed (exit {proc.wait(30)}):\n{log.read_text()}")
        return json.loads(line)

    try:
        yield send
    finally:
        if not proc.stdin.closed:
            proc.stdin.close()
        proc.wait(30)
        proc.stdout.close()


@pytest.mark.parametrize("locale", LOCALES)
def test_artifact_runs_a_whole_routine_alone(locale, built, task_root, tmp_path):
    python = built[1]
    lc = load_content().for_locale(locale)
    before = _snapshot(task_root)
    with lambda_container(python, task_root, tmp_path / "tmp") as send:
        session = Session(send, locale=locale, user=f"artifact-{locale}")
        session.launch()
        assert lc.prompt("welcome_first") in session.text
        assert session.open and session.last["response"]["reprompt"]["outputSpeech"]["ssml"]
        heard = [session.text]
        for _ in range(40):
            session.say("AMAZON.NextIntent")
            heard.append(session.text)
            if session.last["response"].get("shouldEndSession") is True:
                break
            assert session.open and session.last["response"]["reprompt"]
        assert session.last["response"]["shouldEndSession"] is True
        said = " ".join(heard)
        positions = [said.find(step.title) for step in lc.steps]
        assert -1 not in positions and positions == sorted(positions), "every step, in order"

    # Progress is kept in the temporary directory, and only there.
    assert (tmp_path / "tmp" / "knee-routine.sqlite3").is_file()
    assert _snapshot(task_root) == before, "the code directory was written to (stale .pyc?)"
    with lambda_container(python, task_root, tmp_path / "tmp") as send:  # a warm /tmp
        again = Session(send, locale=locale, user=f"artifact-{locale}")
        again.launch()
        assert any(w in again.text for w in lc.prompts["welcome_back"])


def test_artifact_ships_compiled_code_and_content_but_not_boto3(built):
    zip_path, python = built
    names = set(zipfile.ZipFile(zip_path).namelist())
    assert "skill/lambda_function.py" in names and "content/routine.yaml" in names
    assert {n.split("/")[0] for n in names}.isdisjoint(RUNTIME_PROVIDED)
    tag = subprocess.run([python, "-I", "-c", "import sys; print(sys.implementation.cache_tag)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    missing = sorted(
        n for n in names if n.endswith(".py")
        and f"{n.rpartition('/')[0]}/__pycache__/{Path(n).stem}.{tag}.pyc".lstrip("/") not in names)
    assert missing == [], f"modules without {tag} bytecode: {missing[:5]}"
    assert f"content/__pycache__/parsed.{tag}.marshal" in names, "the content, parsed"


def test_artifact_ships_only_what_runs_on_lambda(built):
    """No simulator, web app, server, verifier or command line; no bytecode of another Python."""
    zip_path, python = built
    names = zipfile.ZipFile(zip_path).namelist()
    for left_out in ("skill/simulator/", "skill/web.py", "skill/cli.py",
                     "skill/hosting/server.py", "skill/hosting/verifier.py"):
        assert not [n for n in names if n.startswith(left_out)], left_out
    assert not [n for n in names if "/static/" in n]
    tag = subprocess.run([python, "-I", "-c", "import sys; print(sys.implementation.cache_tag)"],
                         capture_output=True, text=True, check=True).stdout.strip()
    stray = [n for n in names if n.endswith(".pyc") and not n.endswith(f".{tag}.pyc")
             or n.endswith(".marshal") and not n.endswith(f"/parsed.{tag}.marshal")]
    assert stray == []


def test_artifact_dependencies_are_the_locked_versions(built):
    """What is bundled is exactly what requirements-lambda.lock pins (make lock)."""
    names = zipfile.ZipFile(built[0]).namelist()
    bundled = {}
    for name in names:
        top = name.split("/")[0]
        if top.endswith(".dist-info") and name.endswith("/METADATA"):
            project, version = top[: -len(".dist-info")].rsplit("-", 1)
            bundled[_package_lambda().canonical(project)] = version
    assert bundled == _package_lambda().locked_versions()


def test_artifact_uses_dynamodb_with_the_runtimes_boto3(built, task_root, tmp_path):
    """With the table template.yaml sets, and boto3 from the runtime (never from the zip)."""
    provided = tmp_path / "runtime"  # stands for the Lambda runtime's own boto3
    provided.mkdir()
    for name in RUNTIME_PROVIDED:
        package = Path(importlib.util.find_spec(name).origin).parent
        (provided / name).symlink_to(package)
    with moto_server(tmp_path) as url:
        run_pause_and_resume(built[1], task_root, tmp_path, url, provided)


def run_pause_and_resume(python: str, task_root: Path, tmp_path: Path, url: str,
                         provided: Path) -> None:
    Dynamo(url).create_table("artifact-table")
    env = {**aws_env(url), "KNEE_ROUTINE_TABLE": "artifact-table"}
    lc = load_content().for_locale("ja-JP")

    with lambda_container(python, task_root, tmp_path / "tmp1", env, provided) as send:
        session = Session(send, locale="ja-JP", user="artifact-dynamo")
        session.launch()
        session.say("AMAZON.YesIntent")  # the equipment question: a ball
        for _ in range(3):
            session.say("AMAZON.NextIntent")
        session.say("AMAZON.PauseIntent")
        assert lc.prompt("paused").format(number=2) in session.text
    with lambda_container(python, task_root, tmp_path / "tmp2", env, provided) as send:
        session = Session(send, locale="ja-JP", user="artifact-dynamo")
        session.launch()
        assert lc.prompt("resume_offer").format(number=2) in session.text
    assert not (tmp_path / "tmp1" / "knee-routine.sqlite3").exists(), "DynamoDB, not SQLite"
