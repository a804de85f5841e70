"""Find a report's file by what the reviewer sees: its name, or its id.

`amanat-admin show` lists each file with its name and id; `export` takes
either. A name is matched exactly first, then ignoring case; a name two
files share is refused with both ids, so the reviewer picks one.
"""

from __future__ import annotations

from admin.vault import Vault


class FileNotFound(LookupError):
    """No file, or more than one, answers to the name; the message says which and what to do."""


def find_file(vault: Vault, report_id: str, wanted: str) -> str:
    """The blob id of the report's file whose id or name is wanted.

    Names are learned from the files' manifests (decrypting each once, as
    `show` does). Raises FileNotFound; UnknownReportError for no report.
    """
    entries = vault.files(report_id)
    ids = [entry.blob_id for entry in entries]
    if wanted in ids:
        return wanted
    names = {blob_id: m.filename for blob_id, m in vault.learn_manifests(ids).items()}
    for exact in (True, False):
        found = [blob_id for blob_id, name in names.items() if _same(name, wanted, exact)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise FileNotFound(
                f"{len(found)} files of report {report_id} are named {wanted!r}: give the id of"
                f" the one you mean ({', '.join(found)})."
            )
    known = ", ".join(f"{name!r} ({blob_id})" for blob_id, name in names.items()) or "none"
    raise FileNotFound(f"Report {report_id} has no file named {wanted!r}. Its files: {known}.")


def _same(name: str, wanted: str, exact: bool) -> bool:
    return name == wanted if exact else name.casefold() == wanted.casefold()


__all__ = ["FileNotFound", "find_file"]
