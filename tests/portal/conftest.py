"""Fixtures the portal's test modules share (the app, client and database ones
are in tests/conftest.py)."""

from __future__ import annotations

import pytest
from flask import Flask

from crypto.keys import ReviewerKey

from .api_client import ApiClient


@pytest.fixture
def reviewer(app: Flask, recipient_key: ReviewerKey) -> ApiClient:
    """The reviewer of recipient_key, signing sync API requests as the console does."""
    return ApiClient(app.test_client(), recipient_key)
