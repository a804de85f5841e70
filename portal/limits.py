"""Rate limits, shared by every client on purpose, and by every worker.

The portal runs behind a Tor onion service: every visitor arrives from
127.0.0.1, so the client address cannot tell them apart (and the portal must
not look at it anyway). The key is therefore one constant, and a limit
declared on a view is a global budget for that view, which is what protects
the server from floods. Views add their own limits with
`@limiter.limit("10 per minute")`.

The counters must live in one store every worker process and every host
shares (Redis): with `memory://` each process counts alone, so two workers
let twice the budget through. Production refuses to start with it
(portal.settings). When the shared store does not answer, a limited view
answers 503 with a page that says so in the visitor's language, before
anything of the request is read or stored: never an open door, never a 500.
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from flask_babel import lazy_gettext as _l
from flask_limiter import Limiter
from limits import parse
from redis.exceptions import RedisError
from werkzeug.exceptions import TooManyRequests

from portal.errors import try_again_later
from portal.settings import Settings

GLOBAL_KEY = "all-visitors"
# One budget for every way a codename is tried: logging in, creating one and
# the report form's re-login. Separate budgets would let a guesser use all three.
CODENAME_BUDGET = parse("30 per minute")
# Seconds to wait for the store: a Redis that hangs must not hang the portal.
STORE_TIMEOUT = 2
STORE_DOWN_MESSAGE = (
    _l("Sending is paused for a few minutes"),
    _l(
        "The server's protection against floods is not answering, so it accepts nothing "
        "for now. Nothing you sent was kept. Try again in a few minutes."
    ),
)
log = logging.getLogger(__name__)


def shared_key() -> str:
    """The rate-limit key: the same for every visitor (see the module docstring)."""
    return GLOBAL_KEY


limiter = Limiter(key_func=shared_key)


def spend_codename_attempt() -> None:
    """Count one codename attempt against the shared budget, in the shared store.

    Raises TooManyRequests once the budget is spent (RedisError if the store
    does not answer). Call it before the slow key derivation, so a flood
    costs the server nothing.
    """
    if limiter.enabled and not limiter.limiter.hit(CODENAME_BUDGET, GLOBAL_KEY, "codename"):
        raise TooManyRequests()


def storage_options(storage_uri: str) -> dict[str, float]:
    """Connection options for the store: short timeouts for Redis."""
    if storage_uri.lower().startswith(("redis://", "rediss://", "unix://")):
        return {"socket_timeout": STORE_TIMEOUT, "socket_connect_timeout": STORE_TIMEOUT}
    return {}


def _store_unavailable(exc: RedisError) -> Response:
    log.error("rate-limit store unavailable: %s", type(exc).__name__)
    return try_again_later(503, ("unavailable", "try again later"), STORE_DOWN_MESSAGE, 60)


def init_app(app: Flask, settings: Settings) -> None:
    """Attach the limiter to app, storing counters where settings say."""
    app.config["RATELIMIT_STORAGE_URI"] = settings.ratelimit_storage
    app.config["RATELIMIT_STORAGE_OPTIONS"] = storage_options(settings.ratelimit_storage)
    # No X-RateLimit-* headers: they tell a flooder exactly how to pace itself.
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    # No fallback to per-process counters and no swallowed errors: either
    # the shared budget is counted, or the limited view answers 503.
    app.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = False
    app.config["RATELIMIT_SWALLOW_ERRORS"] = False
    limiter.init_app(app)
    app.register_error_handler(RedisError, _store_unavailable)
