"""The portal's database rows: ids, keys, sizes and coarse dates, never content.

The server holds only ciphertext (in the blob store) and the minimum of
metadata needed to route and deliver it. No row holds an IP address, a user
agent or a precise time: days are enough to sort and expire, and precise
times would help match a report to a network log.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints let migrations alter or drop them by name on every
# database (SQLite and PostgreSQL name unnamed ones differently).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

REPORT_STATUSES = ("received", "in_review", "closed")
BLOB_KINDS = ("answers", "file", "message", "reply", "event")
BLOB_AUTHORS = ("source", "reviewer")
PUBLIC_ID_CHARS = 26


def today() -> dt.date:
    """The current UTC day: the only timestamp most rows keep."""
    return dt.datetime.now(dt.UTC).date()


def new_public_id() -> str:
    """A random 26-character id (128 bits): unguessable, not sequential.

    Lowercase base32, so an id never starts with "-" (a command line would
    take it for an option) and reads the same in any font.
    """
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Recipient(Base):
    """A reviewer's public keys, registered by the operator from a bundle."""

    __tablename__ = "recipients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    box_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    verify_key: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(40))
    # Comma-separated region codes; empty means every region.
    regions: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_day: Mapped[dt.date] = mapped_column(Date, default=today)
    revoked_day: Mapped[dt.date | None] = mapped_column(Date, default=None)

    @property
    def region_list(self) -> list[str]:
        """The regions covered, or [] for all regions."""
        return [r for r in self.regions.split(",") if r]


class Source(Base):
    """A codename holder, known only by values derived from the codename."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    lookup_digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    box_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_day: Mapped[dt.date] = mapped_column(Date, default=today)


class Report(Base):
    """One report: its public id, whose it is and where it stands."""

    __tablename__ = "reports"

    id: Mapped[str] = mapped_column(
        String(PUBLIC_ID_CHARS), primary_key=True, default=new_public_id
    )
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="received")
    created_day: Mapped[dt.date] = mapped_column(Date, default=today)
    updated_day: Mapped[dt.date] = mapped_column(Date, default=today)
    # The number of the report's latest change, given at commit (portal.sequence):
    # the reviewers' listing cursor. 0 only until the inserting commit numbers it.
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0", index=True)


class ChangeCounter(Base):
    """The one row holding the last number portal.sequence gave to a change."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class ReportRecipient(Base):
    """A reviewer a report is sealed to (one row per key slot)."""

    __tablename__ = "report_recipients"

    report_id: Mapped[str] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id"), primary_key=True)
    # False for a slot granted to a replacement key (`amanat-server recipient
    # replace`): that key may act on the report through the API, but the
    # report's envelopes were sealed to the old key, not to it.
    sealed: Mapped[bool] = mapped_column(default=True, server_default=true())


class Blob(Base):
    """One sealed envelope in the blob store, with its intake receipt."""

    __tablename__ = "blobs"

    id: Mapped[str] = mapped_column(
        String(PUBLIC_ID_CHARS), primary_key=True, default=new_public_id
    )
    report_id: Mapped[str] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    author: Mapped[str] = mapped_column(String(20))
    # Which reviewer wrote a reply; None for the source's blobs.
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("recipients.id"), default=None)
    storage_name: Mapped[str] = mapped_column(String(100), unique=True)
    # Files reach several GiB: a 32-bit integer is too small.
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    receipt: Mapped[bytes] = mapped_column(LargeBinary)
    # The reviewer's signature over a reply (crypto.replies); None for the source's blobs.
    signature: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    created_day: Mapped[dt.date] = mapped_column(Date, default=today)


class BlobAck(Base):
    """A reviewer's signed acknowledgement that a blob is in their vault, checked.

    Retention counts these and nothing else (crypto.acks): a download the
    server served proves nothing about what the reviewer's machine kept.
    """

    __tablename__ = "blob_acks"

    blob_id: Mapped[str] = mapped_column(
        ForeignKey("blobs.id", ondelete="CASCADE"), primary_key=True
    )
    recipient_id: Mapped[int] = mapped_column(ForeignKey("recipients.id"), primary_key=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    day: Mapped[dt.date] = mapped_column(Date, default=today)


class SourceSession(Base):
    """A logged-in source. The cookie holds the session id and the unwrap key."""

    __tablename__ = "source_sessions"

    # sha256 of the random session id: a database copy cannot replay a cookie.
    id_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    # The source's private key, encrypted under a key that lives only in the cookie.
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The last day the session may be used, set once at login and never
    # moved: a day, not a moment. The idle timeout, which needs minutes,
    # lives in the cookie (portal.sources), so the disk never learns when a
    # source was active.
    expires_day: Mapped[dt.date] = mapped_column(Date, index=True)


class ApiNonce(Base):
    """A nonce a reviewer's signed API request used, kept to refuse a replay.

    A request's timestamp must be within 300 s of the server's clock, so a
    nonce can be forgotten 10 minutes after it was seen: by then a replay is
    refused as stale anyway.
    """

    __tablename__ = "api_nonces"
    __table_args__ = (UniqueConstraint("verify_key", "nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    verify_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    nonce: Mapped[str] = mapped_column(String(32))
    # The day after which the row may be purged (the day of seen + 10
    # minutes): a day, not a moment, so the disk never says when a reviewer
    # synced. Kept longer than needed is only stricter against replays.
    expires_day: Mapped[dt.date] = mapped_column(Date, index=True)


class InstallationSecret(Base):
    """A fingerprint of one of the installation's secrets (portal.hostsecrets).

    Every portal host must hold the same secret key, receipt signing key and
    codename salt; the database, which they all share, keeps a one-way
    fingerprint of each, so a host that made its own can be told apart.
    """

    __tablename__ = "installation_secrets"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))


class PublishedRoster(Base):
    """A roster the organisation's coordinator signed, as the operator published it.

    The server keeps every one (they are small) and serves the newest; it
    checks each against the organisation key of the first, and routes new
    reports by the newest (portal.roster).
    """

    __tablename__ = "rosters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[int] = mapped_column(BigInteger)
    organisation_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The signed roster exactly as the coordinator's tool wrote it (JSON).
    body: Mapped[str] = mapped_column(Text)
    published_day: Mapped[dt.date] = mapped_column(Date, default=today)
