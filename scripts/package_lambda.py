"""Build the AWS Lambda artifact: what ``sam build`` deploys, and what ``make package`` zips.

    python scripts/package_lambda.py --zip build/knee-routine-lambda.zip   # make package
    python scripts/package_lambda.py --dir "$ARTIFACTS_DIR"                # sam build (Makefile)

The artifact's root holds ``skill/`` and ``content/`` side by side (``skill.content.loader`` finds
the content next to the package), less what never runs on Lambda (the simulator, the web app,
its server and request verifier, the command line), and the dependencies: exactly the versions
and hashes of ``requirements-lambda.lock`` (``make lock`` writes it from pyproject.toml and its
``dynamodb`` extra, for python3.13 on arm64, less boto3, which the runtime provides), installed
with ``--require-hashes`` as wheels for the Lambda runtime whatever machine builds. Every module
is compiled by a Python of the runtime's version into unchecked-hash ``.pyc`` (and no other
bytecode is shipped): Lambda's code directory is read-only, so without them each cold start
compiles every module again (imports 2.8x slower), and ordinary timestamp ``.pyc`` would look
stale after the zip rounds the files' times.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("skill", "content")  # side by side at the artifact's root
# Development and web-service code, never imported on Lambda (paths relative to the root).
NOT_SHIPPED = ("skill/simulator", "skill/web.py", "skill/cli.py", "skill/hosting/server.py",
               "skill/hosting/verifier.py")
LOCK = ROOT / "requirements-lambda.lock"  # `make lock`
LAMBDA_PYTHON = "3.13"  # template.yaml: Runtime python3.13
LAMBDA_PLATFORMS = ("manylinux2014_aarch64", "manylinux_2_28_aarch64")  # Architectures: arm64
EXTRAS = ("dynamodb",)
# Provided by the runtime: left out of the lock (`make lock`), so never bundled.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath"})
# Installed without their dependencies (none since the ASK DynamoDB adapter was dropped).
WITHOUT_DEPENDENCIES: frozenset[str] = frozenset()
ZIP_TIME = (2020, 1, 1, 0, 0, 0)  # fixed, so the same inputs give the same zip


class PackageError(RuntimeError):
    """The artifact cannot be built; the message says what to do."""


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    if match is None:
        raise PackageError(f"cannot read the requirement {requirement!r} in pyproject.toml")
    return canonical(match.group(1))


def lambda_requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """What the Lambda needs from pyproject.toml, less what the runtime provides."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in EXTRAS:
        wanted += project["optional-dependencies"][extra]
    return [r for r in wanted if requirement_name(r) not in RUNTIME_PROVIDED]


def locked_versions(lock: Path = LOCK) -> dict[str, str]:
    """``{name: version}`` of the lock file; every pin must carry a hash."""
    if not lock.is_file():
        raise PackageError(f"{lock.name} is missing: run `make lock`")
    pins: dict[str, str] = {}
    text = lock.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)\s+(.*)", line)
        if match is None or "--hash=sha256:" not in match.group(3):
            raise PackageError(f"{lock.name}: {line[:60]!r} is not a pin with hashes; "
                               f"run `make lock`")
        pins[canonical(match.group(1))] = match.group(2)
    return pins


def check_lock(lock: Path = LOCK) -> None:
    """The lock pins every requirement of pyproject.toml within its range, and nothing the
    Lambda runtime provides; else it is stale."""
    from pip._vendor.packaging.requirements import Requirement  # pip is always there

    pins = locked_versions(lock)
    for requirement in lambda_requirements():
        wanted = Requirement(requirement)
        pinned = pins.get(canonical(wanted.name))
        if pinned is None or not wanted.specifier.contains(pinned, prereleases=True):
            raise PackageError(f"{lock.name} does not satisfy {requirement!r} from "
                               f"pyproject.toml (locked: {pinned}): run `make lock`")
    provided = sorted(set(pins) & RUNTIME_PROVIDED)
    if provided:
        raise PackageError(f"{lock.name} pins {', '.join(provided)}, which the Lambda runtime "
                           f"provides: run `make lock`")


def python_version_of(python: str) -> str | None:
    """``"3.13"`` for a working interpreter, None if it does not run."""
    try:
        out = subprocess.run(
            [python, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def find_python(version: str = LAMBDA_PYTHON) -> str | None:
    """A ``python<version>`` that runs: on PATH, or installed by pyenv but not selected."""
    candidates = [shutil.which(f"python{version}")]
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
        found = sorted(Path(root, "versions").glob(f"{version}.*/bin/python{version}"))
        candidates += [str(p) for p in reversed(found)]  # the newest patch release first
    for candidate in candidates:
        if candidate and python_version_of(candidate) == version:
            return candidate
    return None


def pip_install_locked(target: Path, python_version: str, platforms: tuple[str, ...],
                       lock: Path = LOCK) -> None:
    """Exactly the lock's wheels, each checked against its hash (the lock is complete, so
    nothing else is resolved: ``--no-deps``)."""
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--target", str(target), "--no-compile", "--only-binary=:all:",
               "--require-hashes", "--no-deps", "--implementation", "cp",
               "--python-version", python_version, "-r", str(lock)]
    for platform in platforms:
        command += ["--platform", platform]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise PackageError(f"pip could not install {lock.name}:\n{result.stderr[-2000:]}")


def copy_sources(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
    for name in SHIPPED:
        shutil.copytree(ROOT / name, target / name, ignore=ignore)
    for name in NOT_SHIPPED:
        path = target / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def check_tree(target: Path) -> None:
    """What the runtime provides is not bundled; what the handler needs is there."""
    bundled = {canonical(p.name.split("-")[0]) for p in target.glob("*.dist-info")}
    extra = sorted(bundled & RUNTIME_PROVIDED)
    if extra:
        raise PackageError(f"bundled {', '.join(extra)}, which the Lambda runtime provides")
    for needed in ("skill/lambda_function.py", "content/routine.yaml"):
        if not (target / needed).is_file():
            raise PackageError(f"the artifact lacks {needed}")


def cache_tag(python: str) -> str:
    """``cpython-313``: the tag of the runtime's ``.pyc`` and of its parsed content."""
    return subprocess.run([python, "-I", "-c", "import sys; print(sys.implementation.cache_tag)"],
                          capture_output=True, text=True, check=True).stdout.strip()


def parse_content(target: Path, python: str) -> None:
    """Ship the content parsed (skill.content.files) by the runtime's Python, so a cold start
    need not import PyYAML (the artifact's own PyYAML parses it: its pure-Python part where
    the wheel's extension is for another machine)."""
    code = ("import sys; sys.path.insert(0, '.'); from pathlib import Path; "
            "from skill.content.loader import load_from; load_from(Path('content'))")
    # -B: bytecode is compiled afterwards, unchecked (compile_bytecode)
    result = subprocess.run([python, "-I", "-B", "-c", code], cwd=target,
                            capture_output=True, text=True)
    cache = target / "content" / "__pycache__" / f"parsed.{cache_tag(python)}.marshal"
    if result.returncode != 0 or not cache.is_file():
        raise PackageError(f"could not parse the content:\n{result.stderr[-2000:]}")


def compile_bytecode(target: Path, python: str) -> None:
    result = subprocess.run(
        [python, "-I", "-m", "compileall", "-q", "-j", "0",
         "--invalidation-mode", "unchecked-hash", str(target)],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise PackageError(f"compileall failed:\n{(result.stdout + result.stderr)[-2000:]}")


def check_bytecode(target: Path, python: str) -> None:
    """Only the runtime's bytecode and parsed content: another Python's is dead weight."""
    tag = cache_tag(python)
    stray = sorted(str(p.relative_to(target)) for p in target.rglob("*")
                   if p.suffix == ".pyc" and not p.name.endswith(f".{tag}.pyc")
                   or p.suffix == ".marshal" and p.name != f"parsed.{tag}.marshal")
    if stray:
        raise PackageError(f"bytecode of another Python in the artifact: {stray[:3]}")


def build_tree(target: Path, python: str, platforms: tuple[str, ...]) -> None:
    """Fill the empty directory ``target`` with the artifact."""
    version = python_version_of(python)
    if version is None:
        raise PackageError(f"{python} does not run")
    check_lock()
    pip_install_locked(target, version, platforms)
    shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: no use on Lambda
    copy_sources(target)
    check_tree(target)
    parse_content(target, python)
    compile_bytecode(target, python)
    check_bytecode(target, python)


def write_zip(tree: Path, zip_path: Path) -> None:
    """A reproducible zip: sorted entries, fixed times, files readable by the runtime's user."""
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    partial = zip_path.with_name(zip_path.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in sorted(p for p in tree.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(tree).as_posix(), ZIP_TIME)
            info.external_attr = (0o100644 if not os.access(path, os.X_OK) else 0o100755) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    partial.replace(zip_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    out = parser.add_mutually_exclusive_group(required=True)
    out.add_argument("--zip", type=Path, help="write the artifact as this zip file")
    out.add_argument("--dir", type=Path, help="write the artifact into this (empty) directory")
    parser.add_argument("--python", help=f"the Python that compiles the bytecode "
                        f"(default: a python{LAMBDA_PYTHON}, the Lambda runtime's version)")
    parser.add_argument("--platform", action="append",
                        help=f"wheel platform tag (default: {' '.join(LAMBDA_PLATFORMS)})")
    args = parser.parse_args(argv)
    python = args.python or find_python()
    if python is None:
        print(f"package_lambda: python{LAMBDA_PYTHON} is needed to compile the bytecode for the "
              f"Lambda runtime (python{LAMBDA_PYTHON}); install it or pass --python",
              file=sys.stderr)
        return 2
    platforms = tuple(args.platform or LAMBDA_PLATFORMS)
    try:
        if args.dir is not None:
            args.dir.mkdir(parents=True, exist_ok=True)
            if any(args.dir.iterdir()):
                raise PackageError(f"{args.dir} is not empty")
            build_tree(args.dir, python, platforms)
            print(f"package_lambda: wrote {args.dir}")
        else:
            with tempfile.TemporaryDirectory(prefix="knee-routine-lambda-") as tmp:
                build_tree(Path(tmp), python, platforms)
                write_zip(Path(tmp), args.zip)
            size = args.zip.stat().st_size / 1e6
            print(f"package_lambda: wrote {args.zip} ({size:.1f} MB)")
    except PackageError as e:
        print(f"package_lambda: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
