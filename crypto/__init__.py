"""Amanat's cryptography: envelopes, keys, signatures and source secrets.

Pure Python over PyNaCl. Imports nothing from Flask, SQLAlchemy, portal or
admin, so both the server and the reviewer's machine can trust it alike.
"""

from crypto.envelope import (
    HashingWriter,
    Kind,
    Opened,
    Opener,
    Plain,
    Sealed,
    Sealer,
    open_bytes,
    open_stream,
    seal_bytes,
    seal_stream,
)
from crypto.errors import CryptoError, EnvelopeError
from crypto.keys import RecipientBundle, ReviewerKey, read_keyfile, write_keyfile
from crypto.manifest import FileOpener, FileSealer, Manifest, open_file, seal_file
from crypto.signatures import Purpose, sign, verify
from crypto.source import derive_source_secrets, generate_codename, normalize_codename

__all__ = [
    "CryptoError",
    "EnvelopeError",
    "FileOpener",
    "FileSealer",
    "HashingWriter",
    "Kind",
    "Manifest",
    "Opened",
    "Opener",
    "Plain",
    "Purpose",
    "RecipientBundle",
    "ReviewerKey",
    "Sealed",
    "Sealer",
    "derive_source_secrets",
    "generate_codename",
    "normalize_codename",
    "open_bytes",
    "open_file",
    "open_stream",
    "read_keyfile",
    "seal_bytes",
    "seal_file",
    "seal_stream",
    "sign",
    "verify",
    "write_keyfile",
]
