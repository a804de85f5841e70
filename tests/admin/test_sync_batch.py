"""Batched sync: a batch response that is cut, reordered or altered is refused blob by blob."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask

from admin.client import ApiClient
from admin.sync import sync
from admin.vault import Vault
from tests.conftest import served
from tests.portal.journey import get_codename, submit_report

Frames = list[tuple[dict[str, Any], bytes]]


def parse_frames(body: bytes) -> tuple[Frames, bytes]:
    """The (header, bytes) frames of a batch response, and its end line."""
    frames: Frames = []
    while True:
        line, body = body.split(b"\n", 1)
        header = json.loads(line)
        if header.get("end"):
            return frames, line + b"\n"
        size = header.get("size", 0)
        frames.append((header, body[:size]))
        body = body[size:]


def join_frames(frames: Frames, end: bytes) -> bytes:
    return b"".join(json.dumps(h).encode() + b"\n" + data for h, data in frames) + end


class Hostile:
    """The portal behind a server that rewrites batch responses with `mutate`."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.mutate: Callable[[bytes], bytes] = lambda body: body
        self.requests: list[tuple[str, str, str | None]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        self.requests.append((environ["REQUEST_METHOD"], path, environ.get("HTTP_RANGE")))
        if path != "/api/v1/blobs/batch":
            return self.app(environ, start_response)
        captured: dict[str, Any] = {}

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        body = self.mutate(b"".join(self.app(environ, keep)))
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def rewrite_frames(self, change: Callable[[Frames], None]) -> None:
        """Pass every batch's frames through change (which edits the list) before sending."""

        def mutate(body: bytes) -> bytes:
            frames, end = parse_frames(body)
            change(frames)
            return join_frames(frames, end)

        self.mutate = mutate

    def singles(self) -> list[tuple[str, str | None]]:
        return [
            (p.rsplit("/", 1)[1], r) for m, p, r in self.requests if m == "GET" and "/blobs/" in p
        ]


@pytest.fixture
def hostile(app: Flask) -> Iterator[tuple[str, Hostile]]:
    wrapper = Hostile(app)
    with served(wrapper) as url:
        yield url, wrapper


@pytest.fixture
def reports(app, client, recipient_key) -> None:
    for n in range(3):
        get_codename(client)
        files = [("evidence", f"photo{n}.jpg", bytes([n]) * 5000, "image/jpeg")]
        assert submit_report(client, files=files, narrative=f"Отчёт {n}").status_code == 303


def _sync(tmp_path, url, key):
    vault = Vault.open(tmp_path / "vault", key)
    with ApiClient(url, key) as api:
        return vault, sync(vault, api)


def test_a_whole_batch_arrives_in_one_request(tmp_path, hostile, recipient_key, reports):
    url, server = hostile
    vault, result = _sync(tmp_path, url, recipient_key)
    assert len(result.fetched) == 6 and not result.refused
    assert server.singles() == []  # no blob was fetched on its own
    assert all(vault.has_blob(b) for b in result.fetched)


def test_an_altered_frame_is_refused_alone_and_the_rest_kept(
    tmp_path, hostile, recipient_key, reports
):
    url, server = hostile
    altered: list[str] = []

    def flip(frames: Frames) -> None:
        header, data = frames[2]
        frames[2] = (header, data[:-1] + bytes([data[-1] ^ 1]))
        altered.append(header["id"])

    server.rewrite_frames(flip)
    vault, result = _sync(tmp_path, url, recipient_key)
    assert [(r.blob_id, r.reason) for r in result.refused] == [
        (altered[0], "the SHA-256 does not match what the server signed")
    ]
    assert len(result.fetched) == 5 and not vault.has_blob(altered[0])
    assert not vault.partial_path(altered[0]).exists()


def test_reordered_frames_are_refused_blob_by_blob_and_the_rest_kept(
    tmp_path, hostile, recipient_key, reports
):
    url, server = hostile
    moved: list[str] = []

    def swap(frames: Frames) -> None:
        frames[0], frames[1] = frames[1], frames[0]
        moved.extend([frames[0][0]["id"], frames[1][0]["id"]])

    server.rewrite_frames(swap)
    vault, result = _sync(tmp_path, url, recipient_key)
    assert sorted(r.blob_id for r in result.refused) == sorted(moved)
    assert {r.reason for r in result.refused} == {"the batch sent another blob in its place"}
    assert len(result.fetched) == 4
    # The next sync lists those reports again (the cursor held) and gets them whole.
    server.mutate = lambda body: body
    with ApiClient(url, recipient_key) as api:
        assert sorted(sync(vault, api).fetched) == sorted(moved)


def test_a_cut_batch_keeps_what_arrived_and_resumes_the_cut_blob(
    tmp_path, hostile, recipient_key, reports
):
    url, server = hostile
    before: list[str] = []
    kept: list[int] = []

    def cut(body: bytes) -> bytes:
        frames, _ = parse_frames(body)
        before.extend(h["id"] for h, _ in frames[:2])
        whole = join_frames(frames[:2], b"")
        header, data = frames[2]
        kept.append(len(data) // 2)
        return whole + json.dumps(header).encode() + b"\n" + data[: kept[0]]

    server.mutate = cut
    _, result = _sync(tmp_path, url, recipient_key)
    assert len(result.fetched) == 6 and not result.refused
    singles = dict(server.singles())
    assert not set(before) & set(singles)  # what arrived whole was not asked for again
    assert sorted(singles.values(), key=str) == [None, None, None, f"bytes={kept[0]}-"]


def test_progress_is_told_what_is_planned_and_what_arrived(
    tmp_path, hostile, recipient_key, reports
):
    url, _ = hostile
    seen = {"plan": [0, 0], "done": [0, 0]}

    class Recorder:
        def plan(self, blobs: int, size: int) -> None:
            seen["plan"] = [seen["plan"][0] + blobs, seen["plan"][1] + size]

        def advance(self, blobs: int, size: int) -> None:
            seen["done"] = [seen["done"][0] + blobs, seen["done"][1] + size]

    vault = Vault.open(tmp_path / "vault", recipient_key)
    with ApiClient(url, recipient_key) as api:
        result = sync(vault, api, progress=Recorder())
    held = sum(vault.blob_path(b).stat().st_size for b in result.fetched)
    assert seen["plan"] == seen["done"] == [6, held]
