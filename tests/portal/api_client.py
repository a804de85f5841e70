"""A reviewer's side of the sync API for tests: requests signed as the console signs them."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from crypto.keys import ReviewerKey
from crypto.requests_auth import sign_request


class ApiClient:
    """Sends signed API requests through a Flask test client as one reviewer.

    now fixes the signing time (Unix seconds); None signs with the real clock.
    """

    def __init__(self, client: FlaskClient, key: ReviewerKey, now: float | None = None) -> None:
        self.client = client
        self.key = key
        self.now = now

    def server_identity(self) -> str:
        """The receipt key the server names at GET /api/v1/identity (unsigned)."""
        response = self.client.get("/api/v1/identity")
        assert response.status_code == 200, response.get_data(as_text=True)
        identity: str = response.get_json()["receipt_key"]
        return identity

    def headers(
        self, method: str, path: str, body: bytes = b"", server: str | None = None
    ) -> dict[str, str]:
        """The authentication headers for this request (path: the raw target sent)."""
        server = server or self.server_identity()
        return sign_request(self.key.signing, method, path, body, server, now=self.now)

    def open(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> TestResponse:
        """Sign and send a request; extra headers are added after signing."""
        signed = self.headers(method, path, body)
        return self.client.open(
            path,
            method=method,
            data=body,
            content_type=content_type,
            headers={**signed, **(headers or {})},
            # Read the whole response and close it (and the blob file it streams).
            buffered=True,
        )

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.open("GET", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> TestResponse:
        return self.open("DELETE", path, **kwargs)

    def put_json(self, path: str, value: Any) -> TestResponse:
        body = json.dumps(value).encode()
        return self.open("PUT", path, body, content_type="application/json")

    def post_bytes(self, path: str, body: bytes, **kwargs: Any) -> TestResponse:
        return self.open("POST", path, body, content_type="application/octet-stream", **kwargs)

    def reports(self, after: str | None = None) -> list[dict[str, Any]]:
        """The reports listing (asserting it succeeded)."""
        path = "/api/v1/reports" + (f"?after={after}" if after else "")
        response = self.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)
        listed: list[dict[str, Any]] = response.get_json()["reports"]
        return listed
