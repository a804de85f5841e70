"""amanat-admin: the reviewer's command line. Runs on the reviewer's machine only."""

from __future__ import annotations

import functools
import json
import os
import sys
import textwrap
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from admin.actions import (
    NoServerError,
    OnionNeedsProxyError,
    client_for,
    leaks_names,
    send_reply,
    set_status,
)
from admin.airgap import is_offline, queue_reply
from admin.case import MISSING_EVENT, load_case
from admin.client import ApiClient, ClientError
from admin.file_lookup import FileNotFound, find_file
from admin.progress import ProgressBar
from admin.reviewer_paths import (
    KEYFILE_ENV,
    VAULT_ENV,
    default_keyfile,
    default_vault,
    make_private_parent,
)
from admin.roster import (
    NO_ROSTER,
    UNAPPROVED,
    RosterRefused,
    pin_organisation,
    roster_summary,
    unapproved_recipients,
)
from admin.sync import SyncError, sync
from admin.vault import Entry, FileEntry, UnknownReportError, Vault, VaultError, VaultReport
from crypto.errors import KeyFileError, WrongPassphraseError
from crypto.kdf import MODERATE, NAMED
from crypto.keys import ReviewerKey, read_keyfile, write_keyfile
from crypto.manifest import Manifest

P = ParamSpec("P")
R = TypeVar("R")


# The test suite sets this to make key files at libsodium's minimum cost
# (`--kdf minimal`); nothing else may: such a key file's passphrase can be
# guessed thousands of times a second.
TEST_KDF_SWITCH = "AMANAT_TEST_ONLY_MINIMAL_KDF"
MIN_PASSPHRASE_CHARACTERS = 8


def check_new_passphrase(passphrase: str, where: str) -> str:
    """Return the passphrase, or stop with a plain message if it breaks the rules."""
    if len(passphrase.strip()) < MIN_PASSPHRASE_CHARACTERS:
        raise click.UsageError(
            f"{where} is too short: use a passphrase of at least "
            f"{MIN_PASSPHRASE_CHARACTERS} characters (spaces at either end not counted). "
            "No key file was written."
        )
    return passphrase


def ask_new_passphrase() -> str:
    """AMANAT_PASSPHRASE for scripts; otherwise ask twice, without echo.

    The same rules hold for both: a short passphrase from the environment is
    refused like a typed one.
    """
    from_env = os.environ.get("AMANAT_PASSPHRASE")
    if from_env:
        return check_new_passphrase(from_env, "AMANAT_PASSPHRASE")
    passphrase: str = click.prompt(
        "Passphrase for the new key file", hide_input=True, confirmation_prompt=True
    )
    return check_new_passphrase(passphrase, "The passphrase")


def check_kdf_allowed(kdf: str) -> None:
    """Refuse the test-only `minimal` cost unless the test suite's switch is set."""
    if kdf == "minimal" and os.environ.get(TEST_KDF_SWITCH) != "1":
        raise click.UsageError(
            "--kdf minimal is for the test suite only: a key file made with it can be "
            "guessed at quickly. Use the default (moderate) or interactive. "
            "No key file was written."
        )


def ask_passphrase() -> str:
    from_env = os.environ.get("AMANAT_PASSPHRASE")
    if from_env:
        return from_env
    passphrase: str = click.prompt("Key file passphrase", hide_input=True)
    return passphrase


def open_keyfile(keyfile: Path) -> ReviewerKey:
    """Open the key file or stop with a plain message (never a traceback)."""
    try:
        return read_keyfile(keyfile, ask_passphrase())
    except WrongPassphraseError as exc:
        raise click.ClickException(
            "Wrong passphrase for this key file (or the file was changed). Nothing was done."
        ) from exc
    except KeyFileError as exc:
        raise click.ClickException(str(exc)) from exc


def _existing_keyfile(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    if not value.is_file():
        raise click.BadParameter(
            f"no key file at {value}: make one with `amanat-admin keygen`, or give --keyfile"
            f" or {KEYFILE_ENV}."
        )
    return value


keyfile_option = click.option(
    "--keyfile",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar=KEYFILE_ENV,
    default=lambda: str(default_keyfile()),
    show_default="~/.local/share/amanat/reviewer.key",
    callback=_existing_keyfile,
    help=f"Your key file (or {KEYFILE_ENV}).",
)


@click.group()
def main() -> None:
    """Amanat reviewer tools: keys, sync, reading and answering reports.

    Report and file ids may start with "-": put "--" before them
    (amanat-admin show --keyfile me.key -- -Xy...).
    """


@main.command()
@click.option("--name", required=True, help="Your name as the operator will see it.")
@click.option(
    "--keyfile",
    type=click.Path(path_type=Path),
    envvar=KEYFILE_ENV,
    default=lambda: str(default_keyfile()),
    show_default="~/.local/share/amanat/reviewer.key",
    help=f"Where to write the key file (or {KEYFILE_ENV}).",
)
@click.option(
    "--bundle",
    "bundle_path",
    type=click.Path(path_type=Path),
    help="Also write the public bundle here.",
)
@click.option(
    "--kdf",
    type=click.Choice(sorted(NAMED)),
    default="moderate",
    show_default=True,
    help="Passphrase hashing cost (minimal: the test suite only).",
)
def keygen(name: str, keyfile: Path, bundle_path: Path | None, kdf: str) -> None:
    """Make a new key file and print the public bundle and its fingerprint."""
    check_kdf_allowed(kdf)
    if keyfile.exists():
        raise click.ClickException(f"{keyfile} already exists; it was not changed.")
    try:
        key = ReviewerKey.generate(name)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    cost = NAMED.get(kdf, MODERATE)
    make_private_parent(keyfile)
    write_keyfile(keyfile, key, ask_new_passphrase(), cost)
    bundle = key.bundle()
    if bundle_path:
        bundle_path.write_text(bundle.to_json(), encoding="utf-8")
    click.echo(bundle.to_json(), nl=False)
    click.echo(f"Key file written to {keyfile} (readable by you only).", err=True)
    click.echo(f"Fingerprint: {bundle.fingerprint}", err=True)
    click.echo(
        "Send the bundle to the operator, then read the fingerprint to them by phone.", err=True
    )


@main.command()
@keyfile_option
def whoami(keyfile: Path) -> None:
    """Open the key file and show whose it is and its fingerprint."""
    key = open_keyfile(keyfile)
    click.echo(f"{key.name}\nFingerprint: {key.bundle().fingerprint}")


# -- reports: sync, list, show, export, reply, status ---------------------------

STATUSES = ("received", "in_review", "closed")
MAX_REPLY_BYTES = 512 * 1024

vault_option = click.option(
    "--vault",
    "vault_dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar=VAULT_ENV,
    default=lambda: str(default_vault()),
    show_default="~/.local/share/amanat/vault",
    help="Your local vault (or AMANAT_VAULT).",
)


server_option = click.option(
    "--server", help="The portal's URL (remembered in the vault after the first sync)."
)
proxy_option = click.option(
    "--proxy", help="A proxy for every request, e.g. socks5h://127.0.0.1:9050 for Tor."
)


def plain_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the vault's, the client's and sync's errors into one line and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (VaultError, ClientError, SyncError) as exc:
            raise click.ClickException(_sentence(str(exc))) from exc
        except UnknownReportError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith(".") else text + "."


def open_vault(vault_dir: Path, keyfile: Path) -> Vault:
    """Open the key file (asking for the passphrase), then the vault sealed to it."""
    key = open_keyfile(keyfile)
    return Vault.open(vault_dir, key)


def make_client(vault: Vault, server: str | None, proxy: str | None) -> ApiClient:
    """A client for --server (or the remembered server), through --proxy if given."""
    try:
        client = client_for(vault, server, proxy)
    except NoServerError:
        raise click.UsageError(
            "Give --server URL: this vault has not synced with a server yet."
        ) from None
    except OnionNeedsProxyError:
        raise click.UsageError(
            "An .onion server needs --proxy socks5h://127.0.0.1:9050 (Tor)."
        ) from None
    if leaks_names(vault.proxy):
        click.echo("Warning: socks5:// resolves names outside the proxy; use socks5h://.", err=True)
    return client


@main.command("sync")
@keyfile_option
@server_option
@proxy_option
@vault_option
@click.option(
    "--organisation-key",
    "organisation_key",
    help="Your organisation key's fingerprint, as your coordinator read it to you.",
)
@plain_errors
def sync_command(
    keyfile: Path,
    server: str | None,
    proxy: str | None,
    vault_dir: Path,
    organisation_key: str | None,
) -> None:
    """Fetch new reports and replies from the server into your vault (still encrypted)."""
    vault = open_vault(vault_dir, keyfile)
    if organisation_key:
        try:
            pin_organisation(vault, organisation_key)
        except RosterRefused as exc:
            raise click.ClickException(_sentence(str(exc))) from exc
    with make_client(vault, server, proxy) as client, ProgressBar() as bar:
        result = sync(vault, client, progress=bar)
    if result.roster_note:
        click.echo(result.roster_note, err=True)
    click.echo(
        f"Fetched {len(result.fetched)} blob(s) for {len(set(result.reports))} report(s); "
        f"{len(result.skipped)} already in the vault."
    )
    for refusal in result.refused:
        click.echo(f"Refused {refusal}.", err=True)
    if result.refused:
        raise click.ClickException(
            f"{len(result.refused)} blob(s) were refused and are not in the vault."
        )


@main.command("list")
@keyfile_option
@vault_option
@plain_errors
def list_command(keyfile: Path, vault_dir: Path) -> None:
    """List the reports in your vault, unread first."""
    vault = open_vault(vault_dir, keyfile)
    reports = vault.reports()
    if not reports:
        click.echo("The vault holds no reports yet. Run `amanat-admin sync`.")
    for report in reports:
        counts = Counter(b["kind"] for b in report.blobs)
        mark = " " if report.read else "*"
        if unapproved_recipients(vault, report):
            mark = "!"
        click.echo(
            f"{mark} {report.id}  {report.status:<9}  created {report.created_day}  "
            f"updated {report.updated_day}  files {counts['file']}  "
            f"messages {counts['message']}  replies {counts['reply']}"
        )


@main.command("show")
@click.argument("report_id")
@keyfile_option
@vault_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@plain_errors
def show_command(report_id: str, keyfile: Path, vault_dir: Path, as_json: bool) -> None:
    """Decrypt a report in memory and show it: answers, narrative, files, conversation."""
    vault = open_vault(vault_dir, keyfile)
    report = vault.report(report_id)
    answers = vault.answers(report_id)
    files = [(f, _manifest_or_problem(vault, f)) for f in vault.files(report_id)]
    conversation = vault.conversation(report_id)
    vault.mark_read(report_id)
    if as_json:
        click.echo(
            json.dumps(
                _report_json(vault, report, answers, files, conversation),
                indent=2,
                ensure_ascii=False,
            )
        )
        return
    click.echo(f"Report {report.id}")
    for warning in _warnings(vault, report):
        click.echo(f"WARNING: {warning}", err=True)
    click.echo(
        f"Status: {report.status}  created {report.created_day}  updated {report.updated_day}"
    )
    narrative = answers.pop("narrative", "")
    click.echo("\nAnswers:")
    for code, value in sorted(answers.items()):
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        click.echo(f"  {code}: {shown}")
    click.echo("\nNarrative:")
    click.echo(textwrap.indent(str(narrative), "  "))
    click.echo("\nFiles:")
    if not files:
        click.echo("  (none)")
    for entry, found in files:
        click.echo(f"  {entry.blob_id}  {entry.size} bytes encrypted  sha256 {entry.sha256}")
        if isinstance(found, Manifest):
            click.echo(
                f"    {found.filename} ({found.content_type}), {found.size} bytes, "
                f"sha256 {found.sha256}"
            )
        else:
            click.echo(f"    {found}")
    click.echo("\nConversation:")
    if not conversation:
        click.echo("  (none)")
    for item in conversation:
        click.echo(f"  {item.day}  {_who(item)}:")
        if item.problem:
            click.echo(f"    [{item.problem}]")
        if item.text is not None:
            click.echo(textwrap.indent(item.text, "    "))


def _manifest_or_problem(vault: Vault, entry: FileEntry) -> Manifest | str:
    if entry.manifest is not None:
        return entry.manifest
    if not entry.present:
        return "not in the vault yet (run sync)"
    try:
        return vault.manifest(entry.blob_id)
    except VaultError as exc:
        return f"DAMAGED: {exc}"


def _warnings(vault: Vault, report: VaultReport) -> list[str]:
    """What a reviewer must see before trusting this report's listing (admin.roster)."""
    unapproved = unapproved_recipients(vault, report)
    warnings = []
    if unapproved:
        names = ", ".join(repr(r["name"]) for r in unapproved)
        warnings.append(f"{UNAPPROVED} (listed as {names}); nothing new is sealed to it.")
    if roster_summary(vault)["pinned"] is False:
        warnings.append(NO_ROSTER)
    if load_case(vault, report.id).missing:
        warnings.append(f"{MISSING_EVENT} (see amanat-admin case).")
    return warnings


def _who(item: Entry) -> str:
    if item.author == "source":
        return "source"
    name = item.author_name or "reviewer"
    if item.author_check in ("revoked", "not_on_roster"):
        return f"REJECTED reply ({item.problem}){f': claims {name}' if item.author_name else ''}"
    return name if item.verified else f"UNVERIFIED reply claiming to be from {name}"


def _report_json(
    vault: Vault,
    report: VaultReport,
    answers: dict[str, Any],
    files: list[tuple[FileEntry, Manifest | str]],
    conversation: list[Entry],
) -> dict[str, Any]:
    return {
        "id": report.id,
        "status": report.status,
        "created_day": report.created_day,
        "updated_day": report.updated_day,
        "answers": answers,
        "files": [
            {
                "blob_id": f.blob_id,
                "size": f.size,
                "sha256": f.sha256,
                "day": f.day,
                "manifest": asdict(m) if isinstance(m, Manifest) else None,
                "problem": m if isinstance(m, str) else None,
            }
            for f, m in files
        ],
        "conversation": [asdict(e) for e in conversation],
        "roster": roster_summary(vault),
        # A key the server lists for this report that the pinned roster does
        # not approve: non-empty means "also sealed to an unapproved key".
        "unapproved_recipients": unapproved_recipients(vault, report),
        # Events a signed event names as seen but that never reached this vault.
        "missing_events": load_case(vault, report.id).missing,
    }


@main.command("export")
@click.argument("report_id")
@click.argument("file_name_or_id")
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@keyfile_option
@server_option
@proxy_option
@vault_option
@plain_errors
def export_command(
    report_id: str,
    file_name_or_id: str,
    out: Path,
    keyfile: Path,
    server: str | None,
    proxy: str | None,
    vault_dir: Path,
) -> None:
    """Decrypt one file of a report, by its name or id, to --out (only if it all verifies).

    The export is written to the case's custody log (posted now, or at the next sync).
    """
    if out.exists():
        raise click.ClickException(f"{out} already exists; it was not changed.")
    vault = open_vault(vault_dir, keyfile)
    try:
        blob_id = find_file(vault, report_id, file_name_or_id)
    except FileNotFound as exc:
        raise click.ClickException(str(exc)) from exc
    manifest = vault.export_file(blob_id, out)
    click.echo(
        f"Wrote {out}: {manifest.filename} ({manifest.content_type}), {manifest.size} bytes, "
        f"sha256 {manifest.sha256}; it matches the SHA-256 the server computed when it "
        "sealed the upload at intake."
    )
    _log_custody(vault, server, proxy, report_id, [blob_id], "export")


def _log_custody(
    vault: Vault,
    server: str | None,
    proxy: str | None,
    report_id: str,
    blob_ids: list[str],
    action: str,
) -> None:
    """Record a custody event per file: posted if the server answers, else queued."""
    from admin.custody import record_custody

    client = make_client(vault, server, proxy) if (server or vault.server_url) else None
    try:
        posted = all(record_custody(vault, client, report_id, b, action) for b in blob_ids)
    finally:
        if client is not None:
            client.close()
    if not posted:
        click.echo(
            "The custody log entry is kept in the vault and is sent at the next sync.", err=True
        )


@main.command("reply")
@click.argument("report_id")
@keyfile_option
@server_option
@proxy_option
@vault_option
@plain_errors
def reply_command(
    report_id: str, keyfile: Path, server: str | None, proxy: str | None, vault_dir: Path
) -> None:
    """Send the source a reply (from standard input, or written in $EDITOR)."""
    vault = open_vault(vault_dir, keyfile)
    vault.report(report_id)
    # Scripts pipe the text in; a person at a terminal gets their editor.
    text = sys.stdin.read() if not sys.stdin.isatty() else click.edit("\n") or ""
    text = text.strip()
    if not text:
        raise click.ClickException("The reply is empty; nothing was sent.")
    if len(text.encode("utf-8")) > MAX_REPLY_BYTES:
        raise click.ClickException("The reply is too long; nothing was sent.")
    if is_offline(vault):
        queue_reply(vault, report_id, text)
        click.echo(f"Reply to report {report_id} kept; it goes out in your next outgoing bundle.")
        return
    with make_client(vault, server, proxy) as client:
        if not send_reply(vault, client, report_id, text):
            click.echo("Warning: the server's answer does not describe this reply.", err=True)
    click.echo(f"Reply sent to report {report_id}. The source sees it at their next login.")


@main.command("status")
@click.argument("report_id")
@click.argument("value", type=click.Choice(STATUSES))
@keyfile_option
@server_option
@proxy_option
@vault_option
@plain_errors
def status_command(
    report_id: str,
    value: str,
    keyfile: Path,
    server: str | None,
    proxy: str | None,
    vault_dir: Path,
) -> None:
    """Set a report's status; the source sees it at their next login."""
    vault = open_vault(vault_dir, keyfile)
    vault.report(report_id)
    with make_client(vault, server, proxy) as client:
        set_status(vault, client, report_id, value)
    click.echo(f"Report {report_id} is now {value}.")


# -- case work: events, verification, evidence --------------------------------------


@main.command("case")
@click.argument("report_id")
@keyfile_option
@vault_option
@click.option("--json", "as_json", is_flag=True, help="Print the state and history as JSON.")
@plain_errors
def case_command(report_id: str, keyfile: Path, vault_dir: Path, as_json: bool) -> None:
    """Show a report's case record (folded from its signed events) and its history."""
    vault = open_vault(vault_dir, keyfile)
    case = load_case(vault, report_id)
    history = [
        {
            "status": i.status,
            "author": i.author_name,
            "blob_id": i.blob_id,
            "reason": i.reason,
            "event": i.event,
        }
        for i in case.history
    ]
    if case.missing:
        click.echo(f"WARNING: {MISSING_EVENT} ({len(case.missing)} event(s)).", err=True)
    if as_json:
        out = {"state": case.state, "history": history, "missing_events": case.missing}
        click.echo(json.dumps(out, indent=2, ensure_ascii=False, sort_keys=True))
        return
    click.echo(f"Case of report {report_id}")
    for key, value in case.state.items():
        if key not in ("conflicts", "rejected"):
            click.echo(f"  {key}: {json.dumps(value, ensure_ascii=False)}")
    for conflict in case.state["conflicts"]:
        others = "; ".join(
            f"{json.dumps(c['value'], ensure_ascii=False)} by {c['by']}"
            for c in conflict["concurrent"]
        )
        kept = conflict["kept"]
        click.echo(
            f"  CONFLICT on {conflict['field']}: kept "
            f"{json.dumps(kept['value'], ensure_ascii=False)} by {kept['by']}; "
            f"concurrent: {others}"
        )
    click.echo("History:")
    for item in case.history:
        event: Mapping[str, Any] = item.event or {}
        mark = {"verified": "ok", "pending": "queued"}.get(item.status, "REJECTED")
        what = f"{event.get('type')} {json.dumps(event.get('data'), ensure_ascii=False)}"
        click.echo(f"  [{mark}] {event.get('day', '')} {item.author_name or '?'}: {what}")
        if item.reason:
            click.echo(f"      {item.reason}")


@main.command("event")
@click.argument("report_id")
@click.argument("event_type")
@click.option(
    "--json",
    "data_file",
    required=True,
    type=click.File("r", encoding="utf-8"),
    help="The event's data as JSON (- for standard input).",
)
@keyfile_option
@server_option
@proxy_option
@vault_option
@plain_errors
def event_command(
    report_id: str,
    event_type: str,
    data_file: Any,
    keyfile: Path,
    server: str | None,
    proxy: str | None,
    vault_dir: Path,
) -> None:
    """Add a case event, e.g. event ID set_priority --json - <<< '{"priority": "high"}'."""
    from admin.case import CaseError, submit_event

    try:
        data = json.load(data_file)
    except ValueError as exc:
        raise click.ClickException("The event data is not JSON; nothing was sent.") from exc
    vault = open_vault(vault_dir, keyfile)
    vault.report(report_id)
    offline = is_offline(vault)
    try:
        if offline:
            event, posted = submit_event(vault, None, report_id, event_type, data)
        else:
            with make_client(vault, server, proxy) as client:
                event, posted = submit_event(vault, client, report_id, event_type, data)
    except CaseError as exc:
        raise click.ClickException(f"{_sentence(str(exc))} Nothing was sent.") from exc
    if offline:
        where = "kept; it goes out in your next outgoing bundle"
    else:
        where = "sent" if posted else "kept in the vault; it is sent at the next sync"
    click.echo(f"Event {event['id']} ({event_type}) {where}.")


@main.command("verify-package")
@click.argument("package", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--receipt-key", help="The server's receipt key (base64) the package must name.")
def verify_package_command(package: Path, receipt_key: str | None) -> None:
    """Check an evidence package alone: no vault, no key file, no server needed."""
    from admin.evidence_verify import verify_package

    check = verify_package(package, receipt_key)
    if check.packer:
        click.echo(f"Packed by {check.packer}, fingerprint {check.packer_fingerprint}")
    if check.receipt_key:
        click.echo(f"Server receipt key {check.receipt_key}")
    if check.organisation_fingerprint:
        click.echo(f"Roster signed by the organisation key {check.organisation_fingerprint}")
    for problem in check.problems:
        click.echo(f"REFUSED: {problem}")
    if not check.ok:
        raise SystemExit(1)
    click.echo(
        f"OK: report {check.report_id}: {check.files_checked} files, their receipts "
        "and the custody log verify. Compare both keys with their owners out of band."
    )


@main.command("verify")
@click.argument("report_id")
@keyfile_option
@vault_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@plain_errors
def verify_command(report_id: str, keyfile: Path, vault_dir: Path, as_json: bool) -> None:
    """Check each file: the server's receipt, the ciphertext, the plaintext and its manifest."""
    from admin.custody import checks_json, verify_report

    vault = open_vault(vault_dir, keyfile)
    checks = verify_report(vault, report_id)
    if as_json:
        click.echo(json.dumps(checks_json(checks), indent=2, ensure_ascii=False))
    else:
        if not checks:
            click.echo(f"Report {report_id} has no files.")
        for check in checks:
            verdict = "HOLDS" if check.ok else "DOES NOT HOLD"
            click.echo(f"File {check.blob_id} ({check.filename or 'name unknown'}): {verdict}")
            click.echo(f"  receipt:    {check.receipt}")
            click.echo(f"  ciphertext: {check.ciphertext}")
            click.echo(f"  plaintext:  {check.plaintext}")
    if any(not c.ok for c in checks):
        raise click.ClickException("At least one file does not hold; see above.")


@main.command("evidence")
@click.argument("report_id")
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@keyfile_option
@server_option
@proxy_option
@vault_option
@plain_errors
def evidence_command(
    report_id: str,
    out: Path,
    keyfile: Path,
    server: str | None,
    proxy: str | None,
    vault_dir: Path,
) -> None:
    """Write a zip for a lawyer: the original files, hashes, receipts and the custody log."""
    from admin.custody import build_evidence

    if out.exists():
        raise click.ClickException(f"{out} already exists; it was not changed.")
    vault = open_vault(vault_dir, keyfile)
    files = [f.blob_id for f in vault.files(report_id)]
    # Logged first, so the package's own custody log shows this share.
    _log_custody(vault, server, proxy, report_id, files, "share")
    entries = build_evidence(vault, report_id, out)
    click.echo(f"Wrote {out}: {len(entries)} file(s), verified, with receipts and custody log.")


@main.command("console")
@keyfile_option
@server_option
@vault_option
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Only 127.0.0.1 (this machine)."
)
@click.option("--port", default=8081, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--idle-minutes",
    default=15,
    show_default=True,
    type=click.IntRange(1, 24 * 60),
    help="Forget the key after this long without use.",
)
def console_command(
    keyfile: Path, server: str | None, vault_dir: Path, host: str, port: int, idle_minutes: int
) -> None:
    """Start the reviewer console in your browser at http://127.0.0.1:PORT/ (unlock it there)."""
    from admin.console.app import UnsafeHostError, check_loopback, create_console, serve

    try:
        host = check_loopback(host)
    except UnsafeHostError as exc:
        raise click.UsageError(_sentence(str(exc))) from exc
    app = create_console(keyfile, vault_dir, server, idle_minutes)
    click.echo(f"Reviewer console on http://{host}:{port}/ (Ctrl-C stops it).")
    serve(app, host, port)


# -- statistics -------------------------------------------------------------------


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("write the date as YYYY-MM-DD") from exc


@main.command("stats")
@keyfile_option
@vault_option
@click.option("--from", "start", callback=_day, help="First day counted (YYYY-MM-DD).")
@click.option("--to", "end", callback=_day, help="Last day counted (YYYY-MM-DD).")
@click.option("--region", help="Count only this region's cases (a region code, e.g. osh).")
@click.option(
    "--threshold",
    default=5,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Hide counts from 1 to this minus one.",
)
@click.option("--lang", type=click.Choice(["en", "ru", "ky"]), default="en", show_default=True)
@click.option(
    "--csv", "csv_dir", type=click.Path(path_type=Path, file_okay=False), help="Write CSVs here."
)
@click.option(
    "--html", "html_file", type=click.Path(path_type=Path, dir_okay=False), help="Printable report."
)
@plain_errors
def stats_command(
    keyfile: Path,
    vault_dir: Path,
    start: Any,
    end: Any,
    region: str | None,
    threshold: int,
    lang: str,
    csv_dir: Path | None,
    html_file: Path | None,
) -> None:
    """Count clients, cases and breakdowns for programme reports; small counts are hidden."""
    from datetime import date

    from admin.stats import compute_stats, load_case_rows
    from admin.stats_render import print_html, report_text, report_view, translations, write_csv_dir

    if (start and end) and end < start:
        raise click.UsageError("--to is before --from.")
    period = (start or date.min, end or date.max) if (start or end) else None
    vault = open_vault(vault_dir, keyfile)
    stats = compute_stats(load_case_rows(vault), period, region, threshold)
    gettext = translations(lang)
    view = report_view(stats, lang, gettext)
    click.echo(report_text(view), nl=False)
    if csv_dir:
        for path in write_csv_dir(view, csv_dir):
            click.echo(f"Wrote {path}", err=True)
    if html_file:
        html_file.write_text(print_html(view, gettext), encoding="utf-8")
        click.echo(f"Wrote {html_file}", err=True)


# -- keeping the vault: backups and a new key ---------------------------------


@main.command("vault-backup")
@vault_option
@click.option("--out", required=True, type=click.Path(path_type=Path, dir_okay=False))
@plain_errors
def vault_backup_command(vault_dir: Path, out: Path) -> None:
    """Copy your vault (still encrypted) into one file; keep your key file apart from it."""
    from admin.backup import backup_vault

    done = backup_vault(vault_dir, out)
    click.echo(f"Wrote {out}: the vault index and {done.blobs} blob(s), all still encrypted.")


@main.command("vault-restore")
@click.argument("archive", metavar="FILE", type=click.Path(path_type=Path, exists=True))
@vault_option
@plain_errors
def vault_restore_command(archive: Path, vault_dir: Path) -> None:
    """Unpack a vault backup FILE into an empty vault folder."""
    from admin.backup import restore_vault

    done = restore_vault(archive, vault_dir)
    click.echo(f"Restored the vault index and {done.blobs} blob(s) into {vault_dir}.")


@main.command("reseal")
@click.option(
    "--old-keyfile", required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False)
)
@keyfile_option
@vault_option
@plain_errors
def reseal_command(old_keyfile: Path, keyfile: Path, vault_dir: Path) -> None:
    """Re-seal everything in your vault from your old key to your new key (--keyfile).

    AMANAT_PASSPHRASE, if set, must open both key files; otherwise each is asked for.
    """
    from admin.rekey import reseal_vault

    click.echo(f"Old key file {old_keyfile}:", err=True)
    old_key = open_keyfile(old_keyfile)
    click.echo(f"New key file {keyfile}:", err=True)
    new_key = open_keyfile(keyfile)
    done = reseal_vault(vault_dir, old_key, new_key)
    click.echo(
        f"Re-sealed {len(done.resealed)} blob(s) to {new_key.name} "
        f"({new_key.bundle().fingerprint}); {len(done.already)} were already."
    )
    for blob_id, reason in done.refused.items():
        click.echo(f"Left blob {blob_id} as it was: {reason}.", err=True)
    click.echo("Now sync with the new key file; the old one no longer opens this vault.")


# The offline-review commands live in their own module and register on main.
from admin import cli_airgap  # noqa: E402, F401

if __name__ == "__main__":
    sys.exit(main())


# The coordinator's roster commands use the helpers above.
from admin.roster_cli import roster  # noqa: E402

main.add_command(roster)
