"""Two reviewers sync, reply and change the status of one report at the same moment."""

from __future__ import annotations

import threading

from admin.client import ApiClient
from admin.sync import sync
from admin.vault import Vault
from tests.portal.journey import get_codename, only_report_id, submit_report

ROUNDS = 4


def test_two_reviewers_at_once_lose_nothing(app, client, add_recipient, live_server, tmp_path):
    alice, bob = add_recipient("Alice"), add_recipient("Bob")
    get_codename(client)
    submit_report(client, files=[("evidence", "a.txt", b"evidence", "text/plain")])
    report_id = only_report_id(app)
    vaults = {
        "alice": (alice, Vault.open(tmp_path / "alice", alice)),
        "bob": (bob, Vault.open(tmp_path / "bob", bob)),
    }
    statuses = {"alice": "in_review", "bob": "closed"}
    errors: list[BaseException] = []

    def work(name: str, barrier: threading.Barrier, round_: int) -> None:
        key, vault = vaults[name]
        try:
            with ApiClient(live_server.url, key) as api:
                barrier.wait(timeout=10)
                assert not sync(vault, api).refused
                envelope, signature = vault.seal_reply(report_id, f"{name} round {round_}")
                api.post_reply(report_id, envelope, signature)
                api.set_status(report_id, statuses[name])
                assert not sync(vault, api).refused
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    for round_ in range(ROUNDS):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=work, args=(n, barrier, round_)) for n in vaults]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []

    expected = {f"{n} round {r}" for n in vaults for r in range(ROUNDS)}
    for name, (key, vault) in vaults.items():
        with ApiClient(live_server.url, key) as api:
            assert not sync(vault, api).refused
            final_status = api.list_reports()["reports"][0]["status"]
        conversation = vault.conversation(report_id)
        replies = {e.text for e in conversation if e.kind == "reply"}
        assert replies == expected, name
        assert all(e.verified for e in conversation), name
        assert len(vault.files(report_id)) == 1
        assert final_status in statuses.values()
