"""Fixtures for the reviewer side: the real portal served over HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server


@dataclass
class LiveServer:
    """The portal's URL, its app, and the requests it saw (method, path, Range header)."""

    url: str
    app: Flask
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The test's portal app on a free port, served from a background thread."""
    live = LiveServer(url="", app=app)

    def recording_app(environ: dict[str, Any], start_response: Any) -> Any:
        live.requests.append(
            {
                "method": environ["REQUEST_METHOD"],
                "path": environ.get("PATH_INFO", ""),
                "range": environ.get("HTTP_RANGE"),
            }
        )
        return app(environ, start_response)

    server = make_server("127.0.0.1", 0, recording_app, threaded=True)
    live.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield live
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
