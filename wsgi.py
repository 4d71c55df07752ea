"""WSGI entry point: `gunicorn wsgi:app`. Settings come from HUB_* environment variables."""

from hub import create_app

app = create_app()
