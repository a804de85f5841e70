"""What an evidence package says about itself: the signed statement, the page, the script.

The page (VERIFY.txt, also README.txt) explains in Russian, Kyrgyz and
English how to check the package with sha256sum and a short Python script
that needs only PyNaCl (verify_package.py, shipped inside the package).
"""

from __future__ import annotations

from typing import Any, TypedDict

from crypto import canonical


class PackedFile(TypedDict):
    """One file of the package, as manifest.json and the statement list it."""

    path: str  # the zip member of the plaintext, files/...
    filename: str
    content_type: str
    size: int
    sha256: str
    blob_id: str
    ciphertext_sha256: str
    ciphertext_size: int
    received_day: str
    receipt: str  # the server's receipt (b64) for the ciphertext, sealed/<blob_id>


class CustodyEntry(TypedDict):
    """One custody event of the case, as custody_log.json and the statement list it."""

    day: str
    by: str | None
    author_key: str
    status: str  # "verified", "pending" (queued, not yet posted) or "rejected"
    action: str
    blob_id: str
    sha256: str


class EventSignature(TypedDict):
    """One case event's listing: what lets a reader check its author's signature."""

    blob_id: str
    author_key: str | None
    signature: str | None
    ciphertext_sha256: str
    receipt: str


class Statement(TypedDict):
    """What the packer signs (statement.json); evidence_verify and verify_package.py read it."""

    v: int
    format: str  # "amanat-evidence-package"
    report_id: str
    packed_day: str
    packer: dict[str, Any]  # the packer's RecipientBundle.to_dict()
    receipt_key: str
    files: list[PackedFile]
    custody: list[CustodyEntry]
    events: list[EventSignature]
    roster_entry: dict[str, Any] | None  # the packer's roster Member.to_dict(), if pinned


def statement(
    report_id: str,
    day: str,
    packer: dict[str, Any],
    receipt_key: str,
    files: list[PackedFile],
    custody: list[CustodyEntry],
    events: list[EventSignature],
    roster_entry: dict[str, Any] | None,
) -> bytes:
    """The canonical bytes the packing reviewer signs (purpose evidence-package)."""
    return canonical.encode(
        Statement(
            v=1,
            format="amanat-evidence-package",
            report_id=report_id,
            packed_day=day,
            packer=packer,
            receipt_key=receipt_key,
            files=files,
            custody=custody,
            events=events,
            roster_entry=roster_entry,
        )
    )


VERIFY = """\
Evidence package for report {report_id}, packed on {day} by {reviewer} (Amanat).

=== English ===
What is here
  files/             the files as the source uploaded them
  sealed/            the same files as the server encrypted and stored them at
                     intake (the server seals uploads; the source's browser does not)
  statement.json     signed by the reviewer who packed this: for each file its
                     SHA-256, size, the SHA-256 of its ciphertext and the server's
                     receipt; the custody log that reviewer decrypted and checked
  statement.sig      that reviewer's Ed25519 signature (base64) over statement.json
  packer.bundle.json that reviewer's public keys and fingerprint
  roster.json        the organisation's signed list of its reviewers, if the
                     packer had one; statement.json repeats the packer's entry
  receipt_key.txt    the server's public receipt key (Ed25519, base64)
  events/            the encrypted case events whose author signatures are listed
  verify_package.py  the checks below in 60 lines of Python (needs PyNaCl)

How to check
  1. Each file is unchanged: sha256sum files/*  (macOS: shasum -a 256 files/*;
     Windows: certutil -hashfile FILE SHA256) and compare with "sha256" for
     that "path" in statement.json.
  2. The server received exactly this ciphertext on that day: sha256sum sealed/*
     gives "ciphertext_sha256"; the "receipt" is the server's signature over it.
  3. All of it at once, signatures included:
         pip install pynacl && python3 verify_package.py THIS_PACKAGE.zip
     or, with Amanat installed: amanat-admin verify-package THIS_PACKAGE.zip
  4. Compare the keys with their owners, out of band: receipt_key.txt with the
     key the server operator publishes, and the fingerprint in
     packer.bundle.json with the organisation's roster. A check is only as good
     as the keys it is made with.
  The link between a file and its ciphertext is the SHA-256 sealed inside the
  ciphertext; the packing reviewer decrypted it and signs that it matched.

=== Русский ===
Что здесь
  files/             файлы в том виде, в каком их загрузил источник
  sealed/            те же файлы, зашифрованные и сохранённые сервером при приёме
                     (шифрует сервер, а не браузер источника)
  statement.json     подписан сотрудником, собравшим пакет: SHA-256 и размер
                     каждого файла, SHA-256 шифротекста, квитанция сервера,
                     журнал хранения, расшифрованный и проверенный этим сотрудником
  statement.sig      подпись Ed25519 (base64) этого сотрудника над statement.json
  packer.bundle.json открытые ключи и отпечаток этого сотрудника
  receipt_key.txt    открытый ключ квитанций сервера (Ed25519, base64)
  events/            зашифрованные события дела, подписи авторов которых указаны
  verify_package.py  те же проверки на Python (нужна библиотека PyNaCl)

Как проверить
  1. Файл не изменён: sha256sum files/*  (macOS: shasum -a 256 files/*;
     Windows: certutil -hashfile ФАЙЛ SHA256) и сравнить с "sha256" для этого
     "path" в statement.json.
  2. Сервер получил именно этот шифротекст в этот день: sha256sum sealed/* даёт
     "ciphertext_sha256"; "receipt" - подпись сервера над ним.
  3. Всё сразу, с подписями:
         pip install pynacl && python3 verify_package.py ЭТОТ_ПАКЕТ.zip
     или, если установлен Amanat: amanat-admin verify-package ЭТОТ_ПАКЕТ.zip
  4. Сверьте ключи с владельцами по другому каналу: receipt_key.txt - с ключом,
     который публикует оператор сервера; отпечаток в packer.bundle.json - с
     реестром организации.

=== Кыргызча ===
Бул жерде эмне бар
  files/             булак жүктөгөн файлдар
  sealed/            ошол эле файлдар, кабыл алууда сервер шифрлеп сактаган
                     (сервер шифрлейт, булактын браузери эмес)
  statement.json     пакетти чогулткан кызматкер кол койгон: ар бир файлдын
                     SHA-256 жана өлчөмү, шифртексттин SHA-256, сервердин
                     квитанциясы, ал кызматкер ачып текшерген сактоо журналы
  statement.sig      ошол кызматкердин statement.json үстүнөн Ed25519 колу (base64)
  packer.bundle.json ошол кызматкердин ачык ачкычтары жана манжа изи
  receipt_key.txt    сервердин квитанция ачык ачкычы (Ed25519, base64)
  events/            иштин шифрленген окуялары, алардын авторлорунун колу
  verify_package.py  ошол эле текшерүүлөр Python тилинде (PyNaCl керек)

Кантип текшерүү керек
  1. Файл өзгөргөн эмес: sha256sum files/*  (macOS: shasum -a 256 files/*;
     Windows: certutil -hashfile ФАЙЛ SHA256) жана statement.json ичиндеги
     ошол "path" үчүн "sha256" менен салыштырыңыз.
  2. Сервер дал ушул шифртекстти ошол күнү алган: sha256sum sealed/*
     "ciphertext_sha256" берет; "receipt" - сервердин анын үстүнөн колу.
  3. Баарын бирден, колдору менен:
         pip install pynacl && python3 verify_package.py БУЛ_ПАКЕТ.zip
     же Amanat орнотулган болсо: amanat-admin verify-package БУЛ_ПАКЕТ.zip
  4. Ачкычтарды ээлери менен башка жол аркылуу салыштырыңыз: receipt_key.txt -
     сервер оператору жарыялаган ачкыч менен; packer.bundle.json ичиндеги
     манжа изи - уюмдун реестри менен.
"""


SCRIPT = '''\
#!/usr/bin/env python3
"""Check an Amanat evidence package with PyNaCl only:  python3 verify_package.py PACKAGE.zip

Signatures are Ed25519 over "amanat-signature-v1" 0x00 len(label) label 0x00 message
(docs/PROTOCOL.md in the Amanat sources).
"""
import base64
import hashlib
import json
import sys
import zipfile

from nacl.signing import VerifyKey


def signs(key_b64, label, message, signature_b64):
    label = label.encode("ascii")
    signed = b"amanat-signature-v1\\0" + bytes([len(label)]) + label + b"\\0" + message
    try:
        VerifyKey(base64.b64decode(key_b64)).verify(signed, base64.b64decode(signature_b64))
        return True
    except Exception:
        return False


def sha256(package, name):
    digest = hashlib.sha256()
    with package.open(name) as src:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main(path):
    package = zipfile.ZipFile(path)
    data = package.read("statement.json")
    statement = json.loads(data)
    packer = statement["packer"]
    if not signs(packer["verify_key"], "evidence-package", data, package.read("statement.sig")):
        return ["statement.json: the packer's signature does not verify"]
    print("packed by", packer["name"], "fingerprint", packer["fingerprint"])
    print("server receipt key", statement["receipt_key"])
    problems = []
    for f in statement["files"]:
        if sha256(package, f["path"]) != f["sha256"]:
            problems.append(f["path"] + ": SHA-256 differs from the statement")
        if sha256(package, "sealed/" + f["blob_id"]) != f["ciphertext_sha256"]:
            problems.append("sealed/" + f["blob_id"] + ": ciphertext differs")
        receipt = {"blob_id": f["blob_id"], "day": f["received_day"], "kind": "file",
                   "report_id": statement["report_id"], "sha256": f["ciphertext_sha256"],
                   "size": f["ciphertext_size"], "v": 1}
        message = json.dumps(receipt, sort_keys=True, separators=(",", ":")).encode()
        if not signs(statement["receipt_key"], "receipt", message, f["receipt"]):
            problems.append(f["path"] + ": the server's receipt does not verify")
    if json.loads(package.read("custody_log.json")) != statement["custody"]:
        problems.append("custody_log.json differs from the signed statement")
    return problems


if __name__ == "__main__":
    found = main(sys.argv[1])
    print("\\n".join(found) or "OK: every file, receipt and the custody log verify")
    sys.exit(1 if found else 0)
'''
