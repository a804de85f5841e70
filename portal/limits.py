"""Rate limits, shared by every client on purpose.

The portal runs behind a Tor onion service: every visitor arrives from
127.0.0.1, so the client address cannot tell them apart (and the portal must
not look at it anyway). The key is therefore one constant, and a limit
declared on a view is a global budget for that view, which is what protects
the server from floods. Views add their own limits with
`@limiter.limit("10 per minute")`.
"""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from limits import parse
from werkzeug.exceptions import TooManyRequests

from portal.settings import Settings

GLOBAL_KEY = "all-visitors"
# One budget for every way a codename is tried: logging in, creating one and
# the report form's re-login. Separate budgets would let a guesser use all three.
CODENAME_BUDGET = parse("30 per minute")


def shared_key() -> str:
    """The rate-limit key: the same for every visitor (see the module docstring)."""
    return GLOBAL_KEY


limiter = Limiter(key_func=shared_key)


def spend_codename_attempt() -> None:
    """Count one codename attempt against the shared budget.

    Raises TooManyRequests once the budget is spent. Call it before the
    slow key derivation, so a flood costs the server nothing.
    """
    if limiter.enabled and not limiter.limiter.hit(CODENAME_BUDGET, GLOBAL_KEY, "codename"):
        raise TooManyRequests()


def init_app(app: Flask, settings: Settings) -> None:
    """Attach the limiter to app, storing counters where settings say."""
    app.config["RATELIMIT_STORAGE_URI"] = settings.ratelimit_storage
    # No X-RateLimit-* headers: they tell a flooder exactly how to pace itself.
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)
