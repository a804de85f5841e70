"""The deployment as a source and a reviewer meet it: through a real onion service.

Everything here crosses a private Tor network (tests/tor/network.py): the
source's pages, the reviewer's sync, and the portal's refusals.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.portal.journey import get_codename, login, submit_report, text_of, token_in
from tests.portal.multipart_body import content_type, encode
from tests.tor.conftest import MAX_UPLOAD, ROOT, OnionPortal
from tests.tor.network import DEPLOY_TORRC

pytestmark = pytest.mark.tor

VIDEO = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4096  # 1 MiB


def test_the_test_network_cannot_reach_the_public_tor_network(onion_portal: OnionPortal) -> None:
    """Only loopback in the namespace; every tor knows only this network's authorities."""
    network = onion_portal.network
    assert network.namespace.interfaces() == ["lo"]
    for node in network.nodes:
        torrc = node.torrc.read_text()
        assert "TestingTorNetwork 1" in torrc
        authorities = re.findall(r"^DirAuthority .*$", torrc, re.MULTILINE)
        assert len(authorities) == 3
        assert all(" 127.0.0.1:" in line for line in authorities)


def test_the_onion_service_runs_the_shipped_torrc(onion_portal: OnionPortal) -> None:
    """deploy/torrc's lines, with only the service directory replaced."""
    service = onion_portal.network.service.torrc.read_text()
    shipped = [line for line in DEPLOY_TORRC.read_text().splitlines() if line and line[0] != "#"]
    for line in shipped:
        if line.startswith("HiddenServiceDir "):
            assert f"HiddenServiceDir {onion_portal.network.service.directory}/hs/" in service
        else:
            assert line in service.splitlines()


def test_source_and_reviewer_through_the_onion(onion_portal: OnionPortal) -> None:
    """Codename, report with a file, receipt; the reviewer syncs over Tor and replies;
    the source logs in again and reads the reply."""
    source = onion_portal.browser()
    codename = get_codename(source).codename
    sent = submit_report(
        source,
        narrative="Меня задержали у пункта ОЗТ (через onion).",
        files=[("evidence", "видео.mp4", VIDEO, "video/mp4")],
    )
    assert sent.status_code == 303, sent.get_data(as_text=True)
    receipt = source.get(sent.headers["Location"].removeprefix(onion_portal.url))
    assert receipt.status_code == 200

    keyfile = str(onion_portal.keyfile)
    proxy = onion_portal.network.socks_url
    synced = onion_portal.admin(
        "sync", "--server", onion_portal.url, "--proxy", proxy, "--keyfile", keyfile
    )
    assert synced.returncode == 0, synced.stdout + synced.stderr
    listed = onion_portal.admin("list", "--keyfile", keyfile, online=False)
    assert listed.returncode == 0, listed.stderr
    (report_id,) = re.findall(r"^[* ] (\S+)  ", listed.stdout, re.MULTILINE)
    shown = onion_portal.admin("show", "--keyfile", keyfile, "--json", report_id, online=False)
    details = json.loads(shown.stdout)
    assert details["answers"]["narrative"] == "Меня задержали у пункта ОЗТ (через onion)."
    assert len(details["files"]) == 1

    # The vault remembers the onion and the proxy from the sync.
    replied = onion_portal.admin(
        "reply", "--keyfile", keyfile, report_id, input="Юрист свяжется с вами здесь.\n"
    )  # fmt: skip
    assert replied.returncode == 0, replied.stdout + replied.stderr

    again = onion_portal.browser()
    assert login(again, codename).status_code == 303
    assert "Юрист свяжется с вами здесь." in text_of(again.get("/status"))


def test_onion_location_is_sent_on_the_clearnet_side_only(onion_portal: OnionPortal) -> None:
    clearnet = onion_portal.clearnet_browser().get("/")
    assert clearnet.headers["Onion-Location"] == f"http://{onion_portal.onion}/"
    assert "Onion-Location" not in onion_portal.browser().get("/").headers


def test_the_onion_refuses_an_upload_over_the_limit(onion_portal: OnionPortal) -> None:
    source = onion_portal.browser()
    get_codename(source)
    page = source.get("/report").get_data(as_text=True)
    fields = [("csrf_token", token_in(page)), ("website", ""), ("narrative", "x")]
    body = encode(
        fields, [("evidence", "big.mp4", b"\0" * (MAX_UPLOAD + 2 * 1024**2), "video/mp4")]
    )
    answer = source.post("/report", data=body, content_type=content_type())
    assert answer.status_code == 413


def test_the_onion_refuses_a_post_without_a_csrf_token(onion_portal: OnionPortal) -> None:
    source = onion_portal.browser()
    source.get("/login")
    answer = source.post("/login", data={"codename": "1" * 28, "website": ""})
    assert answer.status_code == 400


def test_check_reads_the_live_onion_service(onion_portal: OnionPortal) -> None:
    """amanat-server check: hostname file, v3 checksum, HiddenServicePort at gunicorn."""
    torrc = str(onion_portal.network.service.torrc)
    gunicorn_conf = str(ROOT / "deploy" / "gunicorn.conf.py")
    argv = ["check", "--torrc", torrc, "--gunicorn-conf", gunicorn_conf]
    result = onion_portal.server_in_network(*argv)
    assert "ok       onion service" in result.stdout, result.stdout
    assert "ok       onion address" in result.stdout, result.stdout

    wrong = onion_portal.server_in_network(
        *argv, env={"AMANAT_ONION_ADDRESS": onion_portal.onion.replace(onion_portal.onion[0], "a")}
    )
    assert f"tor serves {onion_portal.onion}" in wrong.stdout
