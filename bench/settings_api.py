"""A stand-in for the Alexa Settings API on loopback, as the tests use one.

Every turn of the skill reads the device's time zone (``GET {apiEndpoint}/v2/devices/{id}/
settings/System.timeZone``), once per device and process. The envelopes the benchmark sends
name this server as their ``apiEndpoint``, so that call is measured as a quick answer on the
machine (as from Alexa's API), not as a name lookup that fails in an offline sandbox.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ZONE = "Asia/Tokyo"  # the ja-JP locale's own offset: the same day either way

_server: ThreadingHTTPServer | None = None


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if not self.path.endswith("/settings/System.timeZone"):
            self.send_error(404)
            return
        body = f'"{ZONE}"'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def url() -> str:
    """The stand-in's base URL (started on first use, for the rest of the process)."""
    global _server
    if _server is None:
        _server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        _server.daemon_threads = True
        threading.Thread(target=_server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{_server.server_address[1]}"
