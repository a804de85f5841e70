"""Fixtures the portal's test modules share (the app, client and database ones
are in tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from crypto.kdf import MINIMAL
from crypto.keys import ReviewerKey
from crypto.source import derive_source_secrets, generate_codename
from portal import create_app, db
from portal.questionnaire import Questionnaire, load_questionnaire
from portal.settings import Settings
from portal.sources import create_source

from .api_client import ApiClient
from .journey import get_codename, only_report_id, submit_report

# The file report_id's report carries: large enough to be sent in several pieces.
FILE = os.urandom(300_000)


@pytest.fixture
def reviewer(app: Flask, recipient_key: ReviewerKey) -> ApiClient:
    """The reviewer of recipient_key, signing sync API requests as the console does."""
    return ApiClient(app.test_client(), recipient_key)


@pytest.fixture(scope="module")
def q() -> Questionnaire:
    """The shipped questionnaire, loaded once per test module."""
    return load_questionnaire()


@pytest.fixture
def app_with(environ: dict[str, str]) -> Iterator[Callable[..., Flask]]:
    """make(**env): a portal app like the app fixture's, with these AMANAT_* settings added."""
    made: list[Flask] = []

    def make(**env: str) -> Flask:
        made.append(create_app(Settings.from_env({**environ, **env})))
        return made[-1]

    yield make
    for app in made:
        db.get_engine(app).dispose()


@pytest.fixture
def report_id(app: Flask, client, recipient_key: ReviewerKey) -> str:
    """The id of a report client's new source sent with one file (FILE), to recipient_key."""
    get_codename(client)
    response = submit_report(client, files=[("evidence", "a.jpg", FILE, "image/jpeg")])
    assert response.status_code == 303
    return only_report_id(app)


@pytest.fixture
def source(db_session):
    """A source row in db_session, committed (as logging in with a new codename makes one)."""
    derived = derive_source_secrets(generate_codename(), bytes(16), MINIMAL)
    found = create_source(db_session, derived)
    db_session.commit()  # release SQLite's write lock for fixtures that add reviewers
    return found
