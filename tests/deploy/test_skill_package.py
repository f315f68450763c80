"""The ASK CLI skill package is ready for the store: `ask deploy` sends what certification wants.

ask-resources.json names interaction_models/; the manifest has icons of the right sizes for
each locale (drawn from the committed vector source), the APL interface, the reminders
permission and compliance answers true to the skill; privacy policy and terms of use exist per
locale and say what the skill really stores; the deploy scripts fill in the endpoint and the
document URLs, with a clear error when a setting is missing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from skill.alexa.interaction_model import PACKAGE_DIR
from skill.storage import dynamodb
from tests.storage.test_dynamodb import aws_env, moto_server

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
MANIFEST = PACKAGE_DIR / "skill.json"
DELETE_PHRASE = {"en-US": "delete my data", "ja-JP": "データを削除して"}


def _script(name: str):
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(SCRIPTS))


def _manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))["manifest"]


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def test_ask_resources_names_the_skill_package():
    resources = json.loads((ROOT / "ask-resources.json").read_text(encoding="utf-8"))
    src = resources["profiles"]["default"]["skillMetadata"]["src"]
    assert (ROOT / src).resolve() == PACKAGE_DIR
    for locale in _manifest()["publishingInformation"]["locales"]:
        assert (PACKAGE_DIR / "interactionModels" / "custom" / f"{locale}.json").is_file()


@pytest.mark.parametrize("key, size", [("smallIconUri", 108), ("largeIconUri", 512)])
def test_each_locale_has_its_icons_as_local_files_of_the_right_size(key, size):
    for locale, info in _manifest()["publishingInformation"]["locales"].items():
        uri = info[key]
        assert uri.startswith("file://assets/"), (locale, uri)  # uploaded by the ASK CLI
        assert _png_size(PACKAGE_DIR / uri.removeprefix("file://")) == (size, size)


def test_the_committed_icons_are_drawn_from_the_vector_source():
    result = subprocess.run([sys.executable, str(SCRIPTS / "make_icons.py"), "--check"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_icon_drawing_refuses_what_it_cannot_draw(tmp_path):
    make_icons = _script("make_icons")
    svg = tmp_path / "icon.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
                   '<path d="M0 0L10 10" fill="#000000"/></svg>')
    with pytest.raises(make_icons.IconError, match="path"):
        make_icons.render(svg, 10)


def test_the_screen_permission_and_compliance_answers_match_the_skill():
    manifest = _manifest()
    interfaces = [i["type"] for i in manifest["apis"]["custom"]["interfaces"]]
    assert "ALEXA_PRESENTATION_APL" in interfaces  # else Alexa never shows the Echo Show screen
    assert {"name": "alexa::alerts:reminders:skill:readwrite"} in manifest["permissions"]
    compliance = manifest["privacyAndCompliance"]
    assert compliance["usesPersonalInfo"] is True  # progress per user, under Alexa's user id
    assert compliance["allowsPurchases"] is False and compliance["containsAds"] is False
    assert compliance["isChildDirected"] is False
    assert set(compliance["locales"]) == set(manifest["publishingInformation"]["locales"])


def test_no_placeholder_endpoint_is_committed():
    endpoint = _manifest()["apis"]["custom"].get("endpoint")
    assert endpoint is None or ".invalid" not in endpoint["uri"]


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_the_privacy_policy_says_what_is_kept_how_long_and_how_to_delete_it(locale):
    policy = (ROOT / "docs" / f"privacy-policy.{locale}.md").read_text(encoding="utf-8")
    assert (ROOT / "docs" / f"terms-of-use.{locale}.md").is_file()
    samples = json.dumps(json.loads(
        (PACKAGE_DIR / "interactionModels" / "custom" / f"{locale}.json").read_text("utf-8")),
        ensure_ascii=False)
    phrase = DELETE_PHRASE[locale]
    assert phrase in policy and f'"{phrase}"' in samples  # the skill understands it
    assert dynamodb.KEEP_FOR_SECONDS == 365 * 24 * 3600
    assert ("one year" if locale == "en-US" else "1年") in policy
    assert "35" in policy  # point-in-time recovery keeps 35 days
    nothing = "nothing about pain" if locale == "en-US" else "痛み、健康状態"
    assert nothing in policy


def _copy_manifest(tmp_path: Path) -> Path:
    copy = tmp_path / "skill.json"
    shutil.copy(MANIFEST, copy)
    return copy


def _settings(tmp_path: Path, urls: dict[str, tuple[str, str]]) -> Path:
    lines = ['[stack]\nname = "knee-routine"\n']
    for locale, (privacy, terms) in urls.items():
        lines.append(f'[documents."{locale}"]\nprivacy_policy_url = "{privacy}"\n'
                     f'terms_of_use_url = "{terms}"\n')
    path = tmp_path / "publish.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _run(script: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / f"{script}.py"), *args],
                          capture_output=True, text=True, timeout=120, env=env)


def test_document_urls_come_from_the_deploy_settings(tmp_path):
    manifest = _copy_manifest(tmp_path)
    settings = _settings(tmp_path, {
        "en-US": ("https://docs.example.org/privacy-en", "https://docs.example.org/terms-en"),
        "ja-JP": ("https://docs.example.org/privacy-ja", "https://docs.example.org/terms-ja")})
    result = _run("set_document_urls", "--settings", str(settings), "--manifest", str(manifest))
    assert result.returncode == 0, result.stderr
    locales = json.loads(manifest.read_text("utf-8"))["manifest"]["privacyAndCompliance"]["locales"]
    assert locales["ja-JP"] == {"privacyPolicyUrl": "https://docs.example.org/privacy-ja",
                                "termsOfUseUrl": "https://docs.example.org/terms-ja"}
    assert locales["en-US"]["termsOfUseUrl"] == "https://docs.example.org/terms-en"


@pytest.mark.parametrize("urls, complaint", [
    ({"en-US": ("https://a.example/p", "https://a.example/t")}, '[documents."ja-JP"]'),
    ({"en-US": ("https://a.example/p", "https://a.example/t"),
      "ja-JP": ("", "https://a.example/t")}, "privacy_policy_url is not set"),
    ({"en-US": ("http://a.example/p", "https://a.example/t"),
      "ja-JP": ("https://a.example/p", "https://a.example/t")}, "must be an https URL"),
])
def test_a_missing_or_wrong_document_url_stops_with_a_clear_error(tmp_path, urls, complaint):
    manifest = _copy_manifest(tmp_path)
    before = manifest.read_bytes()
    result = _run("set_document_urls", "--settings", str(_settings(tmp_path, urls)),
                  "--manifest", str(manifest))
    assert result.returncode == 2 and complaint in result.stderr, result.stderr
    assert manifest.read_bytes() == before, "nothing half-written"


def test_the_committed_settings_name_every_document_setting():
    settings = (ROOT / "publish.toml").read_text(encoding="utf-8")
    for locale in _manifest()["publishingInformation"]["locales"]:
        assert f'[documents."{locale}"]' in settings
    assert 'region = "us-west-2"' in settings


@pytest.mark.parametrize("given, expected", [
    ("arn:aws:lambda:us-west-2:123456789012:function:knee-routine-Fn-1ABC:live",
     {"uri": "arn:aws:lambda:us-west-2:123456789012:function:knee-routine-Fn-1ABC:live"}),
    ("https://skill.example.org/alexa",
     {"uri": "https://skill.example.org/alexa", "sslCertificateType": "Trusted"}),
])
def test_the_endpoint_is_set_from_an_arn_or_url(tmp_path, given, expected):
    manifest = _copy_manifest(tmp_path)
    result = _run("set_endpoint", "--endpoint", given, "--manifest", str(manifest))
    assert result.returncode == 0, result.stderr
    written = json.loads(manifest.read_text("utf-8"))["manifest"]
    assert written["apis"]["custom"]["endpoint"] == expected
    assert written["apis"]["custom"]["interfaces"] == _manifest()["apis"]["custom"]["interfaces"]


@pytest.mark.parametrize("given", ["https://example.invalid/alexa", "http://skill.example.org/a",
                                   "arn:aws:s3:::bucket"])
def test_a_placeholder_or_wrong_endpoint_is_refused(tmp_path, given):
    manifest = _copy_manifest(tmp_path)
    result = _run("set_endpoint", "--endpoint", given, "--manifest", str(manifest))
    assert result.returncode == 2 and "neither" in result.stderr


def test_the_endpoint_comes_from_the_stack_output(tmp_path):
    """`aws cloudformation describe-stacks` against moto's CloudFormation on loopback."""
    if shutil.which("aws") is None:
        pytest.skip("the AWS CLI is not installed")
    import boto3

    alias = "arn:aws:lambda:us-west-2:123456789012:function:knee-routine-Fn:live"
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
                "Outputs": {"SkillEndpointArn": {"Value": alias}}}
    with moto_server(tmp_path) as url:
        env = {**aws_env(url), "AWS_ENDPOINT_URL": url, "HOME": str(tmp_path),
               "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        boto3.client("cloudformation", endpoint_url=url, region_name=env["AWS_DEFAULT_REGION"],
                     aws_access_key_id="testing", aws_secret_access_key="testing").create_stack(
            StackName="knee-routine", TemplateBody=json.dumps(template))
        manifest = _copy_manifest(tmp_path)
        result = _run("set_endpoint", "--stack", "knee-routine", "--region",
                      env["AWS_DEFAULT_REGION"], "--manifest", str(manifest), env=env)
        assert result.returncode == 0, result.stderr
        endpoint = json.loads(manifest.read_text("utf-8"))["manifest"]["apis"]["custom"]
        assert endpoint["endpoint"] == {"uri": alias}
        missing = _run("set_endpoint", "--stack", "no-such-stack", "--region",
                       env["AWS_DEFAULT_REGION"], "--manifest", str(manifest), env=env)
        assert missing.returncode == 2 and "describe-stacks" in missing.stderr

