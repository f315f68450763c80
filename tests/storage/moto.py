"""moto's DynamoDB server on loopback, and the Lambda configuration pointed at it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from skill.hosting import settings

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"

# Answers envelopes with skill.lambda_function.handler: one JSON line in, one out.
WORKER = """
import json, sys
from skill.lambda_function import handler
for line in sys.stdin:
    print(json.dumps(handler(json.loads(line), None)), flush=True)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def moto_server(log_dir: Path) -> Iterator[str]:
    """moto's standalone server (DynamoDB and the rest of its AWS) on a loopback port."""
    port = _free_port()
    log = (log_dir / "moto.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                               "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if server.poll() is not None:
                pytest.fail(f"moto server exited with {server.returncode}")
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("moto server did not start")
        yield url
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def aws_env(endpoint: str) -> dict[str, str]:
    """What Lambda would set, pointed at a loopback endpoint; no real credentials anywhere."""
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _table_properties() -> dict:
    """The table's key schema and billing mode as template.yaml deploys them."""
    loader = type("Loader", (yaml.SafeLoader,), {})
    loader.add_multi_constructor("!", lambda *_: None)
    template = yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=loader)
    (table,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    return table["Properties"]


class Dynamo:
    """Direct access to the server, as an operator with the AWS console would have."""

    def __init__(self, url: str) -> None:
        import boto3

        self.client = boto3.client("dynamodb", endpoint_url=url, region_name=REGION,
                                   aws_access_key_id="testing", aws_secret_access_key="testing")

    def create_table(self, name: str) -> None:
        props = _table_properties()
        self.client.create_table(TableName=name, KeySchema=props["KeySchema"],
                                 AttributeDefinitions=props["AttributeDefinitions"],
                                 BillingMode=props["BillingMode"])
        self.client.update_time_to_live(TableName=name,
                                        TimeToLiveSpecification=props["TimeToLiveSpecification"])

    def item(self, table: str, user: str) -> dict | None:
        from boto3.dynamodb.types import TypeDeserializer

        raw = self.client.get_item(TableName=table, ConsistentRead=True,
                                   Key={"id": {"S": f"amzn1.ask.account.{user}"}}).get("Item")
        return None if raw is None else {k: TypeDeserializer().deserialize(v)
                                         for k, v in raw.items()}

    def user_ids(self, table: str) -> set[str]:
        return {i["id"]["S"] for i in self.client.scan(TableName=table)["Items"]}


@contextmanager
def lambda_process(table: str, endpoint: str) -> Iterator:
    """A separate process answering like a Lambda container configured by template.yaml."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KNEE_ROUTINE_", "AWS_"))}
    env.update(aws_env(endpoint), **{settings.TABLE_ENV: table})
    proc = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def send(envelope: dict) -> dict:
        proc.stdin.write(json.dumps(envelope) + "\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        assert line, f"the Lambda process died (exit code {proc.poll()})"
        return json.loads(line)

    try:
        yield send
    finally:
        proc.stdin.close()
        proc.wait(30)
        proc.stdout.close()
