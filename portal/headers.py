"""Security headers on every response, and cookie flags.

The pages need no script, no inline style and nothing from another origin,
so the Content-Security-Policy forbids all of it: an injected <script> or
style attribute does nothing, and the browser fetches nothing a network
observer could link to the portal.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask, Response, request

# The policy itself is shared with the reviewer's console.
from portal.security_headers import SECURITY_HEADERS
from portal.settings import Settings

__all__ = ["SECURITY_HEADERS", "init_app"]

# What a path may hold unquoted (RFC 3986 pchar and "/"); the rest is %-encoded.
_PCHAR = "/:@!$&'()*+,;=-._~"


def init_app(app: Flask, settings: Settings) -> None:
    """Set the cookie flags and add the security headers to every response."""
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
    )
    onion = settings.onion_address

    def add_security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        if onion and request.host.partition(":")[0].lower() != onion:
            # Tor Browser offers to switch a clearnet visitor to the onion
            # site; a visitor already on the onion is not sent to itself.
            # request.path is decoded: %0a in the address is a newline here.
            # Quoted again, a path can never break the header (or a log line).
            response.headers["Onion-Location"] = f"http://{onion}{quote(request.path, _PCHAR)}"
        return response

    app.after_request(add_security_headers)
