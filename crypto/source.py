"""Source codenames and what is derived from them.

A codename is 28 digits shown in seven groups of four: 27 random digits
(89.7 bits) and a Damm check digit. Digits were chosen over words or letters
because a source in Kyrgyzstan may type on a Russian, Kyrgyz or Latin
keyboard, often on a phone: digits are the same on all of them and on a
numeric keypad, they read aloud in any language, and they avoid Cyrillic and
Latin look-alikes (е/e, о/o, с/c, р/p) that would silently make a different
codename. The check digit catches any single mistyped digit and any swap of
two neighbours before the slow key derivation runs.

From a codename, Argon2id derives a lookup id (the server keeps only its
hash) and an X25519 key pair (the server keeps only the public key).
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass

from nacl.exceptions import CryptoError as NaclCryptoError
from nacl.public import PrivateKey
from nacl.secret import SecretBox
from nacl.utils import random as random_bytes

from crypto.envelope import Kind, open_bytes
from crypto.errors import BadCodenameError, TamperedError, WrongKindError
from crypto.kdf import KdfCost, derive

RANDOM_DIGITS = 27
GROUP = 4
ENTROPY_BITS = 89

# The Damm algorithm's quasigroup of order 10 (Damm, 2004).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def _damm(digits: str) -> int:
    interim = 0
    for d in digits:
        interim = _DAMM[interim][int(d)]
    return interim


def generate_codename() -> str:
    """Return a new codename, grouped for display: '1234 5678 ...'."""
    body = "".join(secrets.choice("0123456789") for _ in range(RANDOM_DIGITS))
    return _group(body + str(_damm(body)))


def codename_from_seed(seed: bytes) -> str:
    """Return the codename a secret seed of at least 16 bytes stands for, grouped.

    The portal issues codenames this way, from a keyed hash of a nonce, so
    that a codename is never sent back to it by the browser. Raises
    ValueError for a seed too short to give 27 uniform digits.
    """
    if len(seed) < 16:
        raise ValueError("a codename seed has at least 16 bytes")
    # 128 bits or more reduced modulo 10**27 (about 2**90): the bias is below 2**-38.
    body = str(int.from_bytes(seed, "big") % 10**RANDOM_DIGITS).zfill(RANDOM_DIGITS)
    return _group(body + str(_damm(body)))


def _group(digits: str) -> str:
    return " ".join(digits[i : i + GROUP] for i in range(0, len(digits), GROUP))


def normalize_codename(typed: str) -> str:
    """Return the 28 digits of a typed codename, or raise BadCodenameError.

    Spaces, dashes and dots are ignored; full-width and other Unicode decimal
    digits count as their ASCII values.
    """
    digits = []
    for ch in typed:
        if ch.isspace() or ch in "-._\u2010\u2011\u2012\u2013\u2014":
            continue
        value = unicodedata.decimal(ch, None)
        if value is None:
            raise BadCodenameError("a codename has only digits")
        digits.append(str(value))
    text = "".join(digits)
    if len(text) != RANDOM_DIGITS + 1:
        raise BadCodenameError(f"a codename has {RANDOM_DIGITS + 1} digits")
    if _damm(text) != 0:
        raise BadCodenameError("a digit of the codename is mistyped")
    return text


@dataclass(frozen=True)
class SourceSecrets:
    """What a codename opens: a lookup id and the source's private key."""

    lookup_id: bytes
    box: PrivateKey

    @property
    def lookup_digest(self) -> str:
        """The hex digest the server stores to find this source's records."""
        return lookup_digest(self.lookup_id)


def lookup_digest(lookup_id: bytes) -> str:
    return hashlib.sha256(b"amanat.lookup\x00" + lookup_id).hexdigest()


def derive_source_secrets(codename: str, salt: bytes, cost: KdfCost) -> SourceSecrets:
    """Derive the lookup id and key pair from a codename with Argon2id.

    salt is the installation's 16-byte salt (the same for every source, so a
    codename finds its record). Raises BadCodenameError for a malformed codename.
    """
    digits = normalize_codename(codename)
    material = derive(b"amanat.codename.v1\x00" + digits.encode(), salt, cost, 64)
    return SourceSecrets(lookup_id=material[:32], box=PrivateKey(material[32:]))


def open_reply(blob: bytes, source_key: PrivateKey) -> bytes:
    """Open a reviewer's reply with the source's own key.

    This is the only opening function the portal may import: it opens
    replies (kind REPLY) and nothing else, so the server-side code has no
    path that decrypts a report, a file or a case event.
    """
    return open_bytes(blob, source_key, Kind.REPLY).content


def open_own_copy(blob: bytes, source_key: PrivateKey) -> tuple[Kind, bytes]:
    """Open what the source sent (a report's answers or a follow-up message)
    with the source's own key; return its kind and content.

    The portal seals those two kinds to the source's key as well as the
    reviewers', so a logged-in source can read their own thread. It opens
    nothing else (files and case events are never sealed to the source), and
    only with the key that the codename derives. Raises NotARecipientError
    for a blob not sealed to this key (sent before own copies existed) and
    the envelope's errors for a damaged one.
    """
    for kind in (Kind.REPORT, Kind.MESSAGE):
        try:
            return kind, open_bytes(blob, source_key, kind).content
        except WrongKindError:
            continue
    raise WrongKindError("not a report or a message")


def wrap_source_key(source_key: PrivateKey) -> tuple[bytes, bytes]:
    """Encrypt a logged-in source's key for the server to hold between requests.

    Returns (wrapped, unwrap_key): the server keeps `wrapped`; `unwrap_key`
    goes only into the source's cookie, so neither side alone has the key.
    """
    unwrap_key = random_bytes(SecretBox.KEY_SIZE)
    wrapped = bytes(SecretBox(unwrap_key).encrypt(bytes(source_key)))
    return wrapped, unwrap_key


def unwrap_source_key(wrapped: bytes, unwrap_key: bytes) -> PrivateKey:
    """Undo wrap_source_key. Raises TamperedError for a wrong key or altered data."""
    if len(unwrap_key) != SecretBox.KEY_SIZE:
        raise TamperedError("wrong session key length")
    try:
        return PrivateKey(SecretBox(unwrap_key).decrypt(wrapped))
    except NaclCryptoError as exc:
        raise TamperedError("the session key does not open this session") from exc
