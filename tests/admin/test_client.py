"""admin.client against a hostile server: it ends in a clear error, never a loop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from admin.client import ApiClient, ClientError
from crypto.keys import ReviewerKey
from tests.conftest import serving


class _AlwaysUnsatisfiable(BaseHTTPRequestHandler):
    """Answers every blob request 416, whatever Range it had (or none)."""

    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        if self.path == "/api/v1/identity":  # what a client asks before it signs
            body = json.dumps({"version": 1, "receipt_key": "A" * 43 + "="}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        self.seen.append(self.headers.get("Range"))
        self.send_response(416)
        self.send_header("Content-Range", "bytes */0")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hostile_url() -> Iterator[str]:
    _AlwaysUnsatisfiable.seen = []
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _AlwaysUnsatisfiable)) as url:
        yield url


def test_a_server_answering_416_forever_ends_in_a_clear_error(tmp_path, hostile_url) -> None:
    partial = tmp_path / "blob"
    partial.write_bytes(b"x" * 1000)  # a resumed download: the first request has a Range
    with (
        ApiClient(hostile_url, ReviewerKey.generate("R")) as client,
        pytest.raises(ClientError) as exc,
    ):
        client.download_blob("abc", partial, max_bytes=5000)
    assert "416" in str(exc.value) and "abc" in str(exc.value)
    # One resumed request, one afresh without a Range, then the error.
    assert _AlwaysUnsatisfiable.seen == ["bytes=1000-", None]
    assert not partial.exists()


def test_a_416_to_a_fresh_download_is_an_error_at_once(tmp_path, hostile_url) -> None:
    with (
        ApiClient(hostile_url, ReviewerKey.generate("R")) as client,
        pytest.raises(ClientError, match="416"),
    ):
        client.download_blob("abc", tmp_path / "blob", max_bytes=5000)
    assert _AlwaysUnsatisfiable.seen == [None]
