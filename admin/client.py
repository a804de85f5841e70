"""The reviewer's HTTP client for the server's sync API (docs/API.md).

Every request is signed with the reviewer's Ed25519 key over its method, its
path and query exactly as sent, a timestamp, a nonce and the body's hash.
Environment proxy settings are ignored on purpose: the only proxy used is
the one the reviewer names (Tor's, for an onion service), so a stray
HTTP_PROXY cannot route a request around Tor.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import requests
from requests.auth import AuthBase

from admin.listing_types import ServerAnswer
from crypto.keys import ReviewerKey
from crypto.requests_auth import sign_request

DOWNLOAD_CHUNK = 64 * 1024
REPLY_SIGNATURE_HEADER = "Amanat-Reply-Signature"
EVENT_SIGNATURE_HEADER = "Amanat-Event-Signature"
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class ClientError(Exception):
    """A request to the server did not succeed; the message is meant for the reviewer."""


class ConnectionFailed(ClientError):
    """The server could not be reached, or the connection broke."""


class ApiError(ClientError):
    """The server answered with an error (docs/API.md: status, code, message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"the server answered {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class _SignedAuth(AuthBase):
    """Sign each prepared request just before it is sent, for one server."""

    def __init__(self, key: ReviewerKey, server_identity: str) -> None:
        self._key = key
        self._server = server_identity

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        # path_url is the request target requests writes on the wire, escapes
        # and all: the server checks the signature against exactly that.
        target = request.path_url
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        if not isinstance(body, bytes):
            raise TypeError("only in-memory bodies can be signed")
        method = request.method or "GET"
        request.headers.update(sign_request(self._key.signing, method, target, body, self._server))
        return request


class ApiClient:
    """Talk to one Amanat server as one reviewer."""

    def __init__(
        self,
        server_url: str,
        key: ReviewerKey,
        proxy: str | None = None,
        timeout: float = 60.0,
    ) -> None:
        scheme = urlsplit(server_url).scheme
        if scheme not in ("http", "https"):
            raise ClientError(f"the server URL must start with http:// or https://: {server_url}")
        self.server_url = server_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False
        self._key = key
        self.server_identity: str | None = None
        if proxy:
            self.session.proxies = {"http": proxy, "https": proxy}

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------

    def _url(self, path: str, query: dict[str, str] | None = None) -> str:
        url = f"{self.server_url}/api/v1/{path}"
        return f"{url}?{urlencode(query)}" if query else url

    def _send(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        ok: tuple[int, ...] = (200,),
        signed: bool = True,
    ) -> requests.Response:
        auth: AuthBase | None = None
        if signed:
            auth = _SignedAuth(self._key, self.server_identity or self._fetch_identity())
        try:
            response = self.session.request(
                method,
                self._url(path, query),
                data=body,
                headers=headers,
                stream=stream,
                timeout=self.timeout,
                allow_redirects=False,  # a redirect would change the signed path
                auth=auth,
            )
        except requests.RequestException as exc:
            raise ConnectionFailed(
                f"cannot reach the server at {self.server_url}: {_reason(exc)}"
            ) from exc
        if response.status_code not in ok:
            error = _api_error(response)
            response.close()
            raise error
        return response

    def _json(self, response: requests.Response) -> ServerAnswer:
        try:
            data = response.json()
        except ValueError as exc:
            raise ClientError("the server's answer is not JSON") from exc
        if not isinstance(data, dict):
            raise ClientError("the server's answer is not a JSON object")
        return data

    def _fetch_identity(self) -> str:
        """Learn the receipt key request signatures must name (GET /api/v1/identity).

        Unsigned, so a server could lie; then it is a server the reviewer
        never pinned, and sync refuses it (admin.sync pins the receipt key).
        """
        found = self._json(self._send("GET", "identity", signed=False)).get("receipt_key")
        if not isinstance(found, str):
            raise ClientError("the server did not say its receipt key")
        self.server_identity = found
        return found

    # -- the API -------------------------------------------------------------

    def server_info(self) -> ServerAnswer:
        """GET /api/v1/server: version, receipt_key, regions."""
        return self._json(self._send("GET", "server"))

    def list_reports(self, after: str | None = None) -> ServerAnswer:
        """GET /api/v1/reports[?after=DAY]: {"cursor": DAY, "reports": [...]} (the old form)."""
        query = {"after": after} if after else None
        return self._json(self._send("GET", "reports", query=query))

    def list_changes(self, since: int, limit: int) -> ServerAnswer:
        """GET /api/v1/reports?since=N&limit=L: {"cursor": N, "more": bool, "reports": [...]}."""
        query = {"since": str(since), "limit": str(limit)}
        return self._json(self._send("GET", "reports", query=query))

    def download_blob(
        self, blob_id: str, dest_partial: Path, *, max_bytes: int | None = None
    ) -> int:
        """Download a blob's ciphertext into dest_partial and return its size there.

        If dest_partial already holds the start of the blob, only the rest is
        asked for (Range); a server that answers 200 instead gets the whole
        blob written afresh. Raises ClientError if the server sends more than
        max_bytes in all; the partial file is then left for the caller to delete.
        """
        dest_partial = Path(dest_partial)
        have = dest_partial.stat().st_size if dest_partial.exists() else 0
        headers = {"Range": f"bytes={have}-"} if have else None
        response = self._send(
            "GET", f"blobs/{blob_id}", headers=headers, stream=True, ok=(200, 206, 416)
        )
        with response:
            if response.status_code == 416:
                # What we hold is not a prefix the server can continue: start
                # over, once. A 416 to a request without a Range is hostile.
                dest_partial.unlink(missing_ok=True)
                if not have:
                    raise ClientError(
                        f"the server refused blob {blob_id} as an unsatisfiable range (416) "
                        "although none was asked for"
                    )
                return self.download_blob(blob_id, dest_partial, max_bytes=max_bytes)
            mode = "ab"
            if response.status_code == 206:
                if _range_start(response) != have:
                    raise ClientError(f"the server resumed blob {blob_id} at the wrong place")
            else:
                have, mode = 0, "wb"
            fd = os.open(dest_partial, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, mode) as out:
                try:
                    for chunk in response.iter_content(DOWNLOAD_CHUNK):
                        have += len(chunk)
                        if max_bytes is not None and have > max_bytes:
                            raise ClientError(f"the server sent more of blob {blob_id} than listed")
                        out.write(chunk)
                except requests.RequestException as exc:
                    raise ConnectionFailed(
                        f"the download of blob {blob_id} broke off: {_reason(exc)}"
                    ) from exc
                out.flush()
                os.fsync(out.fileno())
        return have

    def open_batch(self, blob_ids: list[str]) -> requests.Response:
        """POST /api/v1/blobs/batch: the streamed frames (admin.sync_batch reads them).

        The caller closes the response.
        """
        body = json.dumps({"blobs": blob_ids}).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        return self._send("POST", "blobs/batch", body=body, headers=headers, stream=True)

    def post_reply(self, report_id: str, envelope: bytes, signature: bytes) -> ServerAnswer:
        """POST a sealed reply; return the stored blob as the listing shows it (unchecked)."""
        return self._post_sealed(
            f"reports/{report_id}/replies", REPLY_SIGNATURE_HEADER, envelope, signature
        )

    def post_event(self, report_id: str, envelope: bytes, signature: bytes) -> ServerAnswer:
        """POST a sealed case event; return the stored blob as the listing shows it (unchecked)."""
        return self._post_sealed(
            f"reports/{report_id}/events", EVENT_SIGNATURE_HEADER, envelope, signature
        )

    def _post_sealed(
        self, path: str, signature_header: str, envelope: bytes, signature: bytes
    ) -> ServerAnswer:
        headers = {
            "Content-Type": "application/octet-stream",
            signature_header: base64.b64encode(signature).decode("ascii"),
        }
        response = self._send("POST", path, body=envelope, headers=headers, ok=(200, 201))
        return self._json(response)

    def post_acks(self, acks: Sequence[Mapping[str, object]]) -> ServerAnswer:
        """POST signed delivery acknowledgements; return what was counted and refused.

        The acknowledgements are admin.listing_types.Ack objects; a courier
        passes on the offline machine's unread, and the server checks each.
        """
        body = json.dumps({"acks": list(acks)}).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        return self._json(self._send("POST", "acks", body=body, headers=headers))

    def set_status(self, report_id: str, status: str) -> ServerAnswer:
        """PUT the report's status; return {"id": ..., "status": ...}."""
        body = json.dumps({"status": status}).encode("utf-8")
        response = self._send(
            "PUT",
            f"reports/{report_id}/status",
            body=body,
            headers={"Content-Type": "application/json"},
        )
        return self._json(response)

    def delete_report(self, report_id: str) -> None:
        """DELETE the report from the server (the vault keeps its copy)."""
        self._send("DELETE", f"reports/{report_id}", ok=(200, 204)).close()


def _range_start(response: requests.Response) -> int | None:
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    return int(match.group(1)) if match else None


def _api_error(response: requests.Response) -> ApiError:
    code, message = f"http_{response.status_code}", response.reason or "error"
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
    except (ValueError, KeyError, TypeError):
        pass
    return ApiError(response.status_code, code, message)


def _reason(exc: requests.RequestException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.InvalidSchema) and "SOCKS" in str(exc):
        return "SOCKS support is missing (pip install PySocks)"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return type(exc).__name__
