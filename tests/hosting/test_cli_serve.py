"""As a new user would: start `knee-routine serve --dev`, POST a LaunchRequest, hear Japanese."""

from __future__ import annotations

import os
import subprocess
import time

import requests

from tests.support.envelopes import launch, speech_text
from tests.support.live_server import command, free_port


def test_serve_dev_answers_a_launch_in_japanese(tmp_path):
    port = free_port()
    env = {**os.environ, "KNEE_ROUTINE_DB": str(tmp_path / "dev.sqlite3")}
    server = subprocess.Popen([*command(), "serve", "--dev", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        reply = requests.post(f"{url}/alexa", json=launch(locale="ja-JP"), timeout=10).json()
        assert speech_text(reply).startswith("ひざトレーニングへようこそ")
        assert reply["response"]["shouldEndSession"] is False
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert "verification OFF" in output


def test_dev_mode_refuses_a_public_host():
    result = subprocess.run([*command(), "serve", "--dev", "--host", "0.0.0.0"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "loopback" in result.stderr
