"""Per-app objects the views share: the blob store, the server key, the salt."""

from __future__ import annotations

from flask import current_app
from nacl.signing import SigningKey

from portal.serverkey import load_or_create_signing_key
from portal.settings import Settings
from portal.sources import installation_salt
from portal.store import BlobStore


def _settings() -> Settings:
    settings: Settings = current_app.extensions["amanat"]
    return settings


def blob_store() -> BlobStore:
    store = current_app.extensions.get("amanat.store")
    if store is None:
        settings = _settings()
        store = BlobStore(settings.data_dir, settings.blob_dir, min_free=settings.min_free_bytes)
        current_app.extensions["amanat.store"] = store
    return store


def server_key() -> SigningKey:
    key = current_app.extensions.get("amanat.server_key")
    if key is None:
        key = load_or_create_signing_key(_settings().data_dir)
        current_app.extensions["amanat.server_key"] = key
    return key


def installation_salt_of() -> bytes:
    salt = current_app.extensions.get("amanat.salt")
    if salt is None:
        salt = current_app.extensions["amanat.salt"] = installation_salt(_settings().data_dir)
    return salt
