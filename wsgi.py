"""The portal for production servers: `gunicorn wsgi:app` (settings from the environment)."""

from portal.app import create_app

app = create_app()
