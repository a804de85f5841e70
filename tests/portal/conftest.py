"""Fixtures the portal's test modules share (the app, client and database ones
are in tests/conftest.py)."""

from __future__ import annotations

import pytest
from flask import Flask

from crypto.keys import ReviewerKey
from portal.questionnaire import Questionnaire, load_questionnaire

from .api_client import ApiClient


@pytest.fixture
def reviewer(app: Flask, recipient_key: ReviewerKey) -> ApiClient:
    """The reviewer of recipient_key, signing sync API requests as the console does."""
    return ApiClient(app.test_client(), recipient_key)


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    """The shipped questionnaire, loaded once per test module."""
    return load_questionnaire()
