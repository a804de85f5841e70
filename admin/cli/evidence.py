"""Files as evidence: export one, verify them, and package them for a lawyer."""

from __future__ import annotations

import json
from pathlib import Path

import click

from admin.actions import log_custody
from admin.cli.options import Reviewer, one_report, with_server
from admin.file_lookup import FileNotFound, find_file
from admin.vault import Vault

out_file = click.Path(path_type=Path, dir_okay=False)


@click.command("export")
@click.argument("report_id")
@click.argument("file_name_or_id")
@click.option("--out", required=True, type=out_file)
@with_server
def export_command(reviewer: Reviewer, report_id: str, file_name_or_id: str, out: Path) -> None:
    """Decrypt one file of a report, by its name or id, to --out (only if it all verifies).

    The export is written to the case's custody log (posted now, or at the next sync).
    """
    if out.exists():
        raise click.ClickException(f"{out} already exists; it was not changed.")
    vault = reviewer.open_vault()
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
    _log_custody(reviewer, vault, report_id, [blob_id], "export")


def _log_custody(
    reviewer: Reviewer, vault: Vault, report_id: str, blob_ids: list[str], action: str
) -> None:
    """Record a custody event per file: posted if a server is known and answers, else queued."""
    known = reviewer.server or vault.server_url
    client = reviewer.client(vault) if known else None
    try:
        posted = log_custody(vault, client, report_id, blob_ids, action)
    finally:
        if client is not None:
            client.close()
    if not posted:
        click.echo(
            "The custody log entry is kept in the vault and is sent at the next sync.", err=True
        )


@click.command("verify-package")
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


@click.command("verify")
@one_report(json_help="Print JSON instead of text.")
def verify_command(reviewer: Reviewer, report_id: str, as_json: bool) -> None:
    """Check each file: the server's receipt, the ciphertext, the plaintext and its manifest."""
    from admin.custody import checks_json, verify_report

    vault = reviewer.open_vault()
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


@click.command("evidence")
@click.argument("report_id")
@click.option("--out", required=True, type=out_file)
@with_server
def evidence_command(reviewer: Reviewer, report_id: str, out: Path) -> None:
    """Write a zip for a lawyer: the original files, hashes, receipts and the custody log."""
    from admin.custody import build_evidence

    if out.exists():
        raise click.ClickException(f"{out} already exists; it was not changed.")
    vault = reviewer.open_vault()
    files = [f.blob_id for f in vault.files(report_id)]
    # Logged first, so the package's own custody log shows this share.
    _log_custody(reviewer, vault, report_id, files, "share")
    entries = build_evidence(vault, report_id, out)
    click.echo(f"Wrote {out}: {len(entries)} file(s), verified, with receipts and custody log.")


COMMANDS = (export_command, verify_package_command, verify_command, evidence_command)
