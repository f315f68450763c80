"""The Alexa Settings API's time-zone call on loopback, for the tests of the user's day."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler

from tests.support.helpers import LoopbackHttp

LATE_EVENING_UTC = "2026-11-25T20:00:00Z"  # Tokyo: the 26th at 05:00; Honolulu: the 25th, 10:00


class SettingsApi(LoopbackHttp):
    """A stand-in for the Alexa Settings API: device id -> zone (or an HTTP status, or a delay);
    ``default`` for any other device."""

    def __init__(self, default: object = 404) -> None:
        self.zones: dict[str, object] = {}
        self.calls: list[tuple[str, str]] = []  # (path, authorization)
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                api.calls.append((self.path, self.headers.get("Authorization", "")))
                device = self.path.split("/")[3]
                answer = api.zones.get(device, default)
                if isinstance(answer, float):
                    time.sleep(answer)
                    answer = "Asia/Tokyo"
                if isinstance(answer, int):
                    self.send_response(answer)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps(answer).encode()
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the skill stopped waiting (the slow case)
                    pass

            def log_message(self, *args) -> None:
                pass

        super().__init__(Handler)


def from_device(event: dict, api_url: str, device: str, stamp: str = LATE_EVENING_UTC) -> dict:
    """``event`` as sent by ``device`` at ``stamp``, naming ``api_url`` as Alexa's API."""
    system = event["context"]["System"]
    system["apiEndpoint"] = api_url
    system["device"]["deviceId"] = device
    event["request"]["timestamp"] = stamp
    return event
