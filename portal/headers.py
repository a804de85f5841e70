"""Security headers on every response, and cookie flags.

The pages need no script, no inline style and nothing from another origin,
so the Content-Security-Policy forbids all of it: an injected <script> or
style attribute does nothing, and the browser fetches nothing a network
observer could link to the portal.
"""

from __future__ import annotations

from flask import Flask, Response, request

from portal.settings import Settings

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "interest-cohort",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    # Nothing a source sees may stay in a shared browser's cache.
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Embedder-Policy": "require-corp",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "X-Frame-Options": "DENY",
}


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
        if onion:
            # Tor Browser offers to switch a clearnet visitor to the onion site.
            response.headers["Onion-Location"] = f"http://{onion}{request.path}"
        return response

    app.after_request(add_security_headers)
