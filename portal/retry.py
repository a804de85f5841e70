"""Writing a finished upload's rows through a database blip.

A source's upload can take hours; by the time its rows are written, its
blobs are sealed and on disk. If the database is briefly unreachable then
(a PostgreSQL restart or failover, a network hiccup, SQLite busy past its
timeout), the rows are written again for a bounded time instead of the
whole upload being thrown away. Only errors that say the connection or the
server failed are retried; a constraint violation or a bug is not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

FIRST_DELAY = 0.25
LONGEST_DELAY = 5.0


def is_blip(exc: BaseException) -> bool:
    """True for an error that says the database could not be reached or lost the connection."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def now() -> float:
    """A monotonic clock in seconds (tests replace it, with pause, to move time)."""
    return time.monotonic()


def pause(seconds: float) -> None:
    """Wait between attempts."""
    time.sleep(seconds)


def write_patiently(
    session: Session,
    attempt: Callable[[], None],
    landed: Callable[[], bool],
    patience: float,
) -> None:
    """Run attempt() (which adds fresh rows and commits) until it succeeds.

    After a blip the session is rolled back and, once landed() says the
    previous commit did not in fact reach the database (a connection can
    break after the server committed), attempt() runs again, with waits
    growing from FIRST_DELAY to LONGEST_DELAY, for at most patience seconds.
    Raises the last error when patience runs out, and any other error at
    once; the session is rolled back either way.
    """
    deadline = now() + patience
    delay = FIRST_DELAY
    retrying = False
    while True:
        try:
            if retrying and landed():
                return
            retrying = True
            attempt()
            return
        except Exception as exc:
            _roll_back(session)
            if not is_blip(exc) or now() + delay > deadline:
                raise
            # The exception's class only: its text can hold the statement's values.
            log.warning("database unavailable while saving an upload; retrying")
        pause(delay)
        delay = min(delay * 2, LONGEST_DELAY)


def _roll_back(session: Session) -> None:
    try:
        session.rollback()
    except Exception:
        # A connection that died mid-rollback: start the next attempt afresh.
        session.close()
