"""The other two web servers of the HTTP benchmark, on waitress as the skill's production server:

- ``echo``: a plain Flask endpoint that sends the request body back (the framework floor);
- ``hello``: the hello-world skill's Lambda handler behind ``POST /alexa`` (the reference).

``python -m bench.servers {echo|hello} --port N``
"""

from __future__ import annotations

import argparse
from typing import Any

from flask import Flask, Response, jsonify, request


def echo_app() -> Flask:
    app = Flask(__name__)

    @app.post("/alexa")
    def alexa() -> Response:
        return Response(request.get_data(), content_type="application/json")

    _health(app)
    return app


def hello_app() -> Flask:
    from bench.hello_world import lambda_handler

    app = Flask(__name__)
    app.json.ensure_ascii = False

    @app.post("/alexa")
    def alexa() -> Any:
        return jsonify(lambda_handler(request.get_json(), None))

    _health(app)
    return app


def _health(app: Flask) -> None:
    @app.get("/health")
    def health() -> Any:
        return jsonify(status="ok")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=("echo", "hello"))
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = echo_app() if args.kind == "echo" else hello_app()
    from skill.hosting.server import (
        serve,  # the skill's waitress settings, for a like-for-like floor
    )

    serve(app, host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
