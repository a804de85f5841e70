"""The reviewer side's tests use tests/conftest.py's live_server: the real portal over HTTP."""
