"""A gunicorn worker killed in the middle of an upload.

The portal runs as in production (`gunicorn wsgi:app`, gthread workers); a
source's upload trickles in over a raw socket; the worker gets SIGKILL. After
gunicorn has started a new worker: no report exists, the portal serves, and
the sweep removes the partial ciphertext the dead worker left in incoming/.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from crypto.keys import ReviewerKey
from portal import db
from portal.models import Report
from portal.recipients import register_recipient
from tests.portal.deployment import closed_port, wait_until
from tests.portal.journey import GROUP_ASKED, codename_on, token_in
from tests.portal.multipart_body import BOUNDARY, content_type

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def partial_bytes(incoming: Path) -> int:
    """Bytes written so far under incoming/ (the worker creates the folder on first use)."""
    try:
        return sum(p.stat().st_size for p in incoming.iterdir())
    except FileNotFoundError:
        return 0


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


@pytest.fixture
def gunicorn(environ, database_url, tmp_path):
    """The portal under gunicorn on a free port; yields (url, master process, environ)."""
    engine = db.make_engine(database_url)
    with engine.begin() as connection:
        from sqlalchemy.orm import Session

        with Session(connection) as session:
            register_recipient(session, ReviewerKey.generate("r").bundle())
            session.commit()
    engine.dispose()
    env = {**os.environ, **environ}
    port = closed_port()
    master = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{port}",
            "--graceful-timeout",
            "1",
            "wsgi:app",
        ],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return requests.get(url + "/", timeout=1).status_code == 200
        except requests.RequestException:
            return False

    try:
        wait_until(up, "gunicorn to serve")
        yield url, master, env
    finally:
        master.send_signal(signal.SIGTERM)
        try:
            master.wait(timeout=10)
        except subprocess.TimeoutExpired:
            master.kill()
            master.wait()


def source_session(url: str) -> tuple[requests.Session, str]:
    """A source who has taken a codename; returns (session, the report form's token)."""
    browser = requests.Session()
    codename = codename_on(browser.get(url + "/codename").text)
    page = browser.get(url + "/codename?step=check").text
    group = codename.split()[int(GROUP_ASKED.search(page).group(1)) - 1]
    data = {"csrf_token": token_in(page), "check": group, "website": ""}
    assert browser.post(url + "/codename", data=data, allow_redirects=False).status_code == 303
    return browser, token_in(browser.get(url + "/report").text)


def kill_the_worker_mid_upload(
    url: str, master: subprocess.Popen, browser: requests.Session, token: str, incoming: Path
) -> None:
    """Start a 50 MB upload, and SIGKILL the worker once ciphertext is in incoming/."""
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{token}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="store_report"\r\n\r\nyes\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="narrative"\r\n\r\nx\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="evidence"; filename="v.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    cookies = "; ".join(f"{c.name}={c.value}" for c in browser.cookies)
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as upload:
        upload.sendall(
            (
                "POST /report HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Content-Type: {content_type()}\r\nContent-Length: {len(head) + 50_000_000}\r\n"
                f"Cookie: {cookies}\r\n\r\n"
            ).encode()
            + head
        )
        for _ in range(20):  # 1.3 MB: past the first sealed frames
            upload.sendall(os.urandom(64 * 1024))
        wait_until(lambda: partial_bytes(incoming) > 0, "ciphertext in incoming/")
        (old_worker,) = workers_of(master.pid)
        os.kill(old_worker, signal.SIGKILL)
        wait_until(lambda: workers_of(master.pid) not in ([], [old_worker]), "a new worker")


def test_worker_killed_mid_upload_leaves_no_report_and_the_sweep_cleans_up(
    gunicorn, settings, database_url
):
    url, master, env = gunicorn
    browser, token = source_session(url)
    incoming = settings.data_dir / "incoming"
    kill_the_worker_mid_upload(url, master, browser, token, incoming)
    # gunicorn serves again, and the source's session survived the crash.
    wait_until(lambda: browser.get(url + "/status").status_code == 200, "the new worker")
    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Report)) == 0
    engine.dispose()
    (partial,) = list(incoming.iterdir())
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", partial.name)
    # Partial uploads are kept for a day whatever the grace (an upload over
    # Tor can take hours): age the file as the clock would.
    day_ago = time.time() - 25 * 3600
    os.utime(partial, (day_ago, day_ago))
    swept = subprocess.run(
        [str(BIN / "amanat-server"), "sweep", "--grace-seconds", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "Removed 1 partial uploads and 0 orphan blobs." in swept.stdout
    assert list(incoming.iterdir()) == []
    assert list((settings.data_dir / "blobs").iterdir()) == []
