"""Point the skill manifest at the deployed skill: the Lambda alias from the SAM stack, or an
ARN or https URL given.

    python scripts/set_endpoint.py [--stack knee-routine] [--region us-west-2]  # make endpoint
    python scripts/set_endpoint.py --endpoint arn:aws:lambda:us-west-2:123456789012:function:f:live
    python scripts/set_endpoint.py --endpoint https://skill.example.org/alexa

Without ``--endpoint``, the ARN is the stack's ``SkillEndpointArn`` output (template.yaml: the
alias "live"), read with ``aws cloudformation describe-stacks``; the stack name and region
default to publish.toml's ``[stack]``, the region then to the AWS CLI's own. ``ask deploy``
then sends the manifest.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from skill_manifest import (
    MANIFEST,
    SETTINGS,
    SettingsError,
    load_manifest,
    load_settings,
    save_manifest,
)

OUTPUT_KEY = "SkillEndpointArn"
LAMBDA_ARN = re.compile(r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+"
                        r"(?::(?P<qualifier>[A-Za-z0-9_$-]+))?")
SSL_TYPES = ("Trusted", "Wildcard", "SelfSigned")


def endpoint_for(target: str, ssl_certificate_type: str = "Trusted") -> dict[str, str]:
    """The manifest's ``apis.custom.endpoint`` for a Lambda ARN or an https URL."""
    target = target.strip()
    if LAMBDA_ARN.fullmatch(target):
        return {"uri": target}
    parts = urlsplit(target)
    if parts.scheme == "https" and parts.netloc and not parts.netloc.endswith(".invalid"):
        if ssl_certificate_type not in SSL_TYPES:
            raise SettingsError(f"the certificate type must be one of {', '.join(SSL_TYPES)}")
        return {"uri": target, "sslCertificateType": ssl_certificate_type}
    raise SettingsError(f"{target!r} is neither a Lambda function ARN nor an https URL")


def stack_output(stack: str, region: str | None, aws: str = "aws") -> str:
    """The stack's SkillEndpointArn, from ``aws cloudformation describe-stacks``."""
    if shutil.which(aws) is None:
        raise SettingsError("the AWS CLI (aws) is not installed: install it, or pass the ARN "
                            "with --endpoint")
    command = [aws, "cloudformation", "describe-stacks", "--stack-name", stack,
               "--query", "Stacks[0].Outputs", "--output", "json"]
    if region:
        command += ["--region", region]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise SettingsError(f"aws cloudformation describe-stacks --stack-name {stack} failed: "
                            f"{result.stderr.strip()[-500:]}")
    try:
        outputs = json.loads(result.stdout) or []
        values = {o["OutputKey"]: o["OutputValue"] for o in outputs}
    except (ValueError, TypeError, KeyError):
        raise SettingsError("describe-stacks did not return the stack's outputs") from None
    if OUTPUT_KEY not in values:
        raise SettingsError(f"stack {stack} has no output {OUTPUT_KEY}: deploy this "
                            f"template.yaml first (sam build && sam deploy)")
    return values[OUTPUT_KEY]


def set_endpoint(endpoint: dict[str, str], manifest: Path = MANIFEST) -> None:
    skill = load_manifest(manifest)
    skill["manifest"]["apis"].setdefault("custom", {})["endpoint"] = endpoint
    save_manifest(skill, manifest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--stack", help="the SAM stack name (default: publish.toml's)")
    source.add_argument("--endpoint", help="a Lambda function ARN or an https URL")
    parser.add_argument("--region", help="the stack's region (default: publish.toml, then aws's)")
    parser.add_argument("--ssl-certificate-type", default="Trusted", choices=SSL_TYPES,
                        help="for an https endpoint: how its certificate is issued")
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    parser.add_argument("--aws", default="aws", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        target = args.endpoint
        if target is None:
            stack = load_settings().get("stack", {}) if SETTINGS.is_file() else {}
            name = args.stack or stack.get("name")
            if not name:
                raise SettingsError(f"no stack name: pass --stack or set [stack] name in "
                                    f"{SETTINGS.name}")
            target = stack_output(name, args.region or stack.get("region") or None, args.aws)
        endpoint = endpoint_for(target, args.ssl_certificate_type)
        match = LAMBDA_ARN.fullmatch(endpoint["uri"])
        if match and match.group("qualifier") is None:
            print("set_endpoint: warning: an unqualified function ARN runs $LATEST; the stack's "
                  "alias (…:live) keeps the skill on the published version", file=sys.stderr)
        set_endpoint(endpoint, args.manifest)
    except SettingsError as e:
        print(f"set_endpoint: {e}", file=sys.stderr)
        return 2
    print(f"set_endpoint: {args.manifest.name} endpoint is {endpoint['uri']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
