"""requirements-lambda.lock: the Lambda's dependencies, pinned with hashes (`make lock`)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements-lambda.lock"


@pytest.fixture(scope="module")
def package_lambda():
    spec = importlib.util.spec_from_file_location("package_lambda",
                                                  ROOT / "scripts" / "package_lambda.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_pin_has_a_hash_and_the_lock_satisfies_pyproject(package_lambda):
    pins = package_lambda.locked_versions(LOCK)
    assert {"ask-sdk-core", "pyyaml"} <= set(pins)
    assert "botocore" not in pins, "the Lambda runtime provides botocore"
    assert set(pins).isdisjoint(package_lambda.RUNTIME_PROVIDED)
    package_lambda.check_lock(LOCK)  # raises when stale


def test_a_stale_lock_is_refused_with_what_to_do(package_lambda, tmp_path):
    stale = tmp_path / "requirements-lambda.lock"
    stale.write_text(re.sub(r"(?m)^pyyaml==\S+", "pyyaml==5.4.1", LOCK.read_text()))
    with pytest.raises(package_lambda.PackageError, match="make lock"):
        package_lambda.check_lock(stale)


def test_a_pin_without_a_hash_is_refused(package_lambda, tmp_path):
    unhashed = tmp_path / "requirements-lambda.lock"
    unhashed.write_text("six==1.17.0\n")
    with pytest.raises(package_lambda.PackageError, match="hashes"):
        package_lambda.locked_versions(unhashed)


def test_a_wheel_that_does_not_match_its_hash_is_not_installed(package_lambda, tmp_path):
    pin = re.search(r"(?m)^six==\S+", LOCK.read_text()).group(0)
    tampered = tmp_path / "tampered.lock"
    tampered.write_text(f"{pin} \\\n    --hash=sha256:{'0' * 64}\n")
    with pytest.raises(package_lambda.PackageError, match="could not install"):
        package_lambda.pip_install_locked(tmp_path / "target", "3.13",
                                          package_lambda.LAMBDA_PLATFORMS, tampered)
    assert not list((tmp_path / "target").glob("six*"))
