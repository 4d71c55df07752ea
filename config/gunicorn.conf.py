"""Serving the dashboard and API in production: `gunicorn -c config/gunicorn.conf.py wsgi:app` (`make serve`).

Several processes, because one Python process serialises its page rendering on the GIL: on this 2-core machine a
single werkzeug process topped out at 50-70 pages/s. Each worker builds its own app and engine after the fork
(no preload), so no database connection is shared between processes. The scheduler is never started here: it
runs in `hub worker` (APScheduler's job store must not be shared between schedulers).
Every value can be overridden by a command-line flag or GUNICORN_CMD_ARGS."""

import multiprocessing
import os

bind = "127.0.0.1:8000"  # --bind to change
# Rendering is CPU-bound and PostgreSQL shares the machine: a process per core plus one to cover I/O waits,
# each with a few threads for requests that wait on the database.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))  # gunicorn's own variable
worker_class = "gthread"
threads = 4
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = None
errorlog = "-"
loglevel = "warning"
