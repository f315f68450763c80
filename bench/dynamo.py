"""moto's DynamoDB server on loopback for the cold-start runs, and a table shaped as deployed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.load import free_port

REGION = "us-east-1"
TABLE = "knee-routine-bench"


def aws_env(endpoint: str) -> dict[str, str]:
    """What Lambda would set, pointed at the loopback endpoint; no real credentials anywhere."""
    return {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint, "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_EC2_METADATA_DISABLED": "true",
    }


@contextmanager
def moto_server(workdir: Path) -> Iterator[str]:
    """A moto server with the skill's table (key ``id``, as template.yaml deploys it)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (workdir / "moto.log").open("wb") as log:
        server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                                   "-p", str(port)], stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait(server, url)
            _create_table(url)
            yield url
        finally:
            server.terminate()
            server.wait(10)


def _wait(server: subprocess.Popen, url: str) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise RuntimeError(f"moto server exited with {server.returncode}")
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("moto server did not start")


def _create_table(url: str) -> None:
    import boto3

    client = boto3.client("dynamodb", endpoint_url=url, region_name=REGION,
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
