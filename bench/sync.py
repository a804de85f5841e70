"""Reviewer sync, vault reads and the console inbox, for N reports, in one run.

    .venv/bin/python -m bench.sync [--reports 1000] [--attachment-kib 4]

Setup (not timed): a portal in a temp directory (SQLite, AMANAT_KDF_COST=minimal),
one reviewer key registered for all regions, its key file written at the
MINIMAL Argon2id cost (so unlocking the console is quick; unlocking is not
timed). N reports, each with a small attachment, are received through the
portal's own intake functions inside an app context (portal.intake.receive on
a multipart body, then store_report), not over HTTP. Sources are made as
rows with fresh key pairs, without the codename KDF.

Timed: (a) admin.sync.sync fetching and verifying every report from the
portal served on 127.0.0.1 by gunicorn (gthread, one worker, four threads,
bench.upload.Server) in a process of its own, so the client's figures are not
shared with the server's under one GIL; (b) opening
every report's answers and every attachment's manifest from the vault; (c)
the console inbox page through the Flask test client after unlocking: the
first render (it decrypts every report's answers once), then the median of 5
renders after a warm-up, against the target. Loopback only; every loop is
bounded by N.
"""

from __future__ import annotations

import argparse
import http.client
import io
import os
import re
import secrets
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from flask import Flask
from nacl.public import PrivateKey

from admin.client import ApiClient
from admin.console.app import create_console
from admin.sync import SyncResult, sync
from admin.vault import INDEX_NAME, Vault
from admin.vault_log import LOG_NAME
from bench.upload import BOUNDARY, Server, multipart_head_and_tail
from crypto.kdf import MINIMAL
from crypto.keys import ReviewerKey, write_keyfile
from portal import create_app, db, intake
from portal.models import Source
from portal.questionnaire import load_questionnaire, validate
from portal.recipients import register_recipient
from portal.services import blob_store, server_key
from portal.settings import DEFAULT_REGIONS, Settings

PASSPHRASE = "bench passphrase, not secret"  # noqa: S105 - a throwaway key file
TARGET_INBOX_SECONDS = 1.0
RENDERS = 5
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def multipart(fields: list[tuple[str, str]], filename: str, content: bytes) -> bytes:
    head, tail = multipart_head_and_tail(fields, filename, "image/jpeg")
    return head + content + tail


def create_reports(app: Flask, count: int, attachment_bytes: int) -> int:
    """Receive count reports through the intake functions; return the bytes of attachments."""
    questionnaire = load_questionnaire()
    regions = app.extensions["amanat"].regions
    total = 0
    with app.app_context():
        session = db.get_session()
        store, key = blob_store(), server_key()
        choose = intake.choose_for(session)
        for i in range(count):
            source = Source(
                lookup_digest=secrets.token_hex(32),
                box_public_key=bytes(PrivateKey.generate().public_key),
            )
            session.add(source)
            session.flush()
            fields = [
                ("csrf_token", "unchecked"),
                ("website", ""),
                ("store_report", "yes"),
                ("region", DEFAULT_REGIONS[i % len(DEFAULT_REGIONS)]),
                ("narrative", f"Bench report {i}: detained at a checkpoint. " * 8),
                ("violation_types", "arbitrary_detention"),
            ]
            body = multipart(fields, f"photo-{i}.jpg", os.urandom(attachment_bytes))
            submission = intake.receive(
                io.BytesIO(body),
                BOUNDARY.encode(),
                store=store,
                check_token=lambda _token: None,
                choose_recipients=choose,
            )
            answers, errors = validate(questionnaire, submission.fields, regions, "ru")
            if errors:
                submission.discard(store)
                raise RuntimeError(f"the bench's answers are refused: {errors}")
            intake.store_report(session, store, key, source, submission, answers)
            total += attachment_bytes
    return total


def token_of(page: str) -> str:
    match = _TOKEN.search(page)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1) or match.group(2)


def warm_up(port: int) -> None:
    """Wait until the worker answers (the master listens before the worker has booted)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/api/v1/server")  # unsigned: a quick 401, no page to render
    conn.getresponse().read()
    conn.close()


def vault_bytes(vault_dir: Path) -> int:
    return sum(p.stat().st_size for p in (vault_dir / "blobs").iterdir())


class BenchPortal(NamedTuple):
    env: dict[str, str]
    app: Flask
    key: ReviewerKey


def bench_portal(tmp: Path) -> BenchPortal:
    """A portal on SQLite in tmp, one reviewer key registered for all regions (not timed)."""
    env = {
        "AMANAT_DATA_DIR": str(tmp / "portal"),
        "AMANAT_DATABASE_URL": f"sqlite:///{tmp / 'portal' / 'amanat.db'}",
        "AMANAT_KDF_COST": "minimal",
        "AMANAT_RATELIMIT_STORAGE": "memory://",
    }
    settings = Settings.from_env(env)
    db.upgrade(settings.database_url)
    app = create_app(settings)
    key = ReviewerKey.generate("Bench reviewer")
    with app.app_context():
        session = db.get_session()
        register_recipient(session, key.bundle(), [])
        session.commit()
    return BenchPortal(env, app, key)


@dataclass
class SyncFigures:
    seconds: float
    result: SyncResult
    fetched_bytes: int
    index_mb: float


@dataclass
class VaultFigures:
    answers_s: float
    manifests_s: float
    files: int
    save_s: float


@dataclass
class InboxFigures:
    first_s: float
    inbox_s: float
    filtered_s: float


def time_sync(env: dict[str, str], key: ReviewerKey, vault_dir: Path, count: int) -> SyncFigures:
    """(a) one sync of every report from the portal served by gunicorn."""
    server = Server("wsgi:app", env)
    try:
        warm_up(server.port)
        vault = Vault.open(vault_dir, key)
        start = time.perf_counter()
        with ApiClient(f"http://127.0.0.1:{server.port}", key) as client:
            result = sync(vault, client)
        sync_s = time.perf_counter() - start
    finally:
        server.stop()
    if result.refused or len(set(result.reports)) != count:
        raise RuntimeError(f"sync refused {len(result.refused)}: {result.refused[:3]}")
    index_files = [vault_dir / INDEX_NAME, vault_dir / LOG_NAME]  # the base and its log
    index_mb = sum(p.stat().st_size for p in index_files if p.exists()) / 1e6
    return SyncFigures(sync_s, result, vault_bytes(vault_dir), index_mb)


def time_vault_reads(vault_dir: Path, key: ReviewerKey) -> VaultFigures:
    """(b) every report's answers, then every attachment's manifest.

    The first manifest read decrypts the whole file and caches the manifest in
    the sealed index.
    """
    vault = Vault.open(vault_dir, key)
    reports = vault.reports()
    start = time.perf_counter()
    for report in reports:
        vault.answers(report.id)
    answers_s = time.perf_counter() - start
    file_ids = [b["id"] for r in reports for b in r.blobs if b["kind"] == "file"]
    start = time.perf_counter()
    vault.learn_manifests(file_ids)
    manifests_s = time.perf_counter() - start
    # What one re-sealing of the full index costs (JSON, seal, write, fsync): sync does
    # it after every report, and manifest() after every newly learnt manifest.
    saves = []
    for _ in range(5):
        start = time.perf_counter()
        vault.save()
        saves.append(time.perf_counter() - start)
    return VaultFigures(answers_s, manifests_s, len(file_ids), statistics.median(saves))


def time_inbox(keyfile: Path, vault_dir: Path, count: int) -> InboxFigures:
    """(c) the console inbox after unlocking: the first render, then medians."""
    console = create_console(keyfile, vault_dir, None)  # no server: nothing is synced
    console.config["TESTING"] = True
    browser = console.test_client()
    page = browser.get("/").get_data(as_text=True)
    answer = browser.post("/", data={"csrf_token": token_of(page), "passphrase": PASSPHRASE})
    if answer.status_code != 303:
        raise RuntimeError(f"unlock answered {answer.status_code}")

    def render(path: str = "/inbox") -> float:
        start = time.perf_counter()
        response = browser.get(path)
        response.get_data()
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")
        return elapsed

    first_s = render()
    render()  # warm-up
    inbox_s = statistics.median(render() for _ in range(RENDERS))
    filtered_s = statistics.median(render("/inbox?region=osh") for _ in range(RENDERS))
    rows = browser.get("/inbox").get_data(as_text=True).count('<tr class="')
    if rows != count:
        raise RuntimeError(f"the inbox shows {rows} reports, not {count}")
    return InboxFigures(first_s, inbox_s, filtered_s)


def print_figures(
    count: int, attachments: int, synced: SyncFigures, reads: VaultFigures, inbox: InboxFigures
) -> None:
    sync_s, fetched = synced.seconds, synced.fetched_bytes
    answers_s, manifests_s, save_s = reads.answers_s, reads.manifests_s, reads.save_s
    ok = inbox.inbox_s < TARGET_INBOX_SECONDS
    blobs = len(synced.result.fetched)
    print(f"sync: {count} reports, {blobs} blobs fetched and verified over loopback")
    print(
        f"  (a) sync:            {sync_s:6.2f} s = {count / sync_s:7.0f} reports/s, "
        f"{fetched / sync_s / 1e6:5.2f} MB/s ({fetched / 1e6:.1f} MB of ciphertext, "
        f"{attachments / 1e6:.1f} MB of attachments); sealed index now {synced.index_mb:.1f} MB, "
        "re-sealed every few seconds during sync"
    )
    print(
        f"  (b) open answers:    {answers_s:6.2f} s = {count / answers_s:7.0f} reports/s; "
        f"manifests: {manifests_s:.2f} s = {reads.files / manifests_s:.0f} files/s; "
        f"both: {count / (answers_s + manifests_s):.0f} reports/s"
    )
    print(
        f"      one save of the full sealed index (median of 5): {save_s * 1000:.0f} ms "
        f"(JSON, seal, fsync); manifest() saves it after each new manifest "
        f"at full size (~{count * save_s:.0f} s of (b))"
    )
    print(
        f"  (c) inbox, {count} rows: first render after unlock {inbox.first_s:.2f} s; "
        f"median of {RENDERS} after a warm-up {inbox.inbox_s:.3f} s "
        f"(target < {TARGET_INBOX_SECONDS:.0f} s) {'ok' if ok else 'ABOVE TARGET'}; "
        f"filtered by region {inbox.filtered_s:.3f} s"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--attachment-kib", type=int, default=4)
    args = parser.parse_args(argv)
    count = args.reports
    tmp = Path(tempfile.mkdtemp(prefix="amanat-bench-sync-", dir=os.environ.get("BENCH_DIR")))
    try:
        env, app, key = bench_portal(tmp)
        keyfile = tmp / "reviewer.key"
        write_keyfile(keyfile, key, PASSPHRASE, MINIMAL)
        start = time.perf_counter()
        attachments = create_reports(app, count, args.attachment_kib * 1024)
        setup_s = time.perf_counter() - start
        print(
            f"setup: {count} reports with a {args.attachment_kib} KiB attachment each, "
            f"received through portal.intake in {setup_s:.1f} s (not timed below); "
            "SQLite, AMANAT_KDF_COST=minimal, key file at the MINIMAL Argon2id cost"
        )
        vault_dir = tmp / "vault"
        synced = time_sync(env, key, vault_dir, count)
        reads = time_vault_reads(vault_dir, key)
        inbox = time_inbox(keyfile, vault_dir, count)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print_figures(count, attachments, synced, reads, inbox)


if __name__ == "__main__":
    main()
