"""gunicorn settings for Amanat behind a Tor onion service.

    gunicorn --config /opt/amanat/deploy/gunicorn.conf.py wsgi:app

Why these values (docs/DEPLOY.md has the longer story):

- Sources upload evidence of up to AMANAT_MAX_UPLOAD_BYTES (2 GiB) over Tor,
  where 50 KB/s is common: 2 GiB at 50 KB/s is about 12 hours. A sync worker
  would kill such an upload at its `timeout` and make every other visitor
  wait behind it. Threaded workers (gthread) serve each connection on its
  own thread, and their `timeout` is only the heartbeat of the worker's main
  loop, which keeps ticking while a thread receives an upload: a 12-hour
  request is not killed. Only a worker whose main loop hangs is.
- One worker with many threads, so that a page never waits while a thread
  is free. Each slow upload holds a thread for hours. With two workers, the
  kernel split 50 trickling uploads 40/10 between them; the worker with 40
  had accepted more connections than its 32 threads, and a landing-page
  request that it accepted waited 100 s for an upload to finish while the
  other worker idled. One worker has no such split: a request waits only
  when all its threads are busy. Threads are started only as needed, and a
  trickling upload costs about 0.7 MiB (docs/PERFORMANCE.md, "Slow clients").
  `worker_connections` is the threads plus room for idle keep-alive
  connections (which hold no thread), so Tor Browser can reuse a stream.
  Codename logins (Argon2id, 64 MiB each) are capped inside the portal, not
  here; libsodium and hashlib release the GIL, so one process still uses
  both cores for them and for sealing.
- No access log, and nothing that trusts X-Forwarded-*: behind Tor every
  visitor arrives from 127.0.0.1, so such headers could only be forged.
"""

import logging
import os
import re

# Tor (or nginx) connects here; nothing else can.
bind = "127.0.0.1:8080"

worker_class = "gthread"
# See the docstring. More workers would bring the split back unless each
# worker's connections are capped at its threads, so with more than one they
# are (and gunicorn then keeps no connection alive between requests).
workers = int(os.environ.get("AMANAT_GUNICORN_WORKERS", "1"))
threads = int(os.environ.get("AMANAT_GUNICORN_THREADS", "128"))
_CONNECTIONS = threads + 32 if workers == 1 else threads
worker_connections = int(os.environ.get("AMANAT_GUNICORN_CONNECTIONS", str(_CONNECTIONS)))
# The worker heartbeat, not a request time limit (gthread): see above.
timeout = 120
# A restart (upgrade, `systemctl restart`) waits this long for requests in
# flight; a longer upload is cut and the source is asked to send it again.
graceful_timeout = 120
keepalive = 15

# Headers are small for a no-JavaScript form site; refuse anything bigger.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# Client addresses: never written. accesslog None means no access log at all.
accesslog = None
errorlog = "-"  # stderr: journald under systemd
loglevel = "warning"
# Behind Tor every client is 127.0.0.1; trust no forwarding headers from it.
forwarded_allow_ips = ""
proxy_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}

# The heartbeat file lives in memory, not on the (sandboxed, read-only) disk.
_SHM = "/dev/shm"  # noqa: S108 - gunicorn's own heartbeat files, per its docs
worker_tmp_dir = _SHM if os.path.isdir(_SHM) else None
proc_name = "amanat"
# Files gunicorn itself creates are owner-only too (the app sets 077 as well).
umask = 0o077


class _NoAddresses(logging.Filter):
    """Blank out IP addresses and request paths in gunicorn's error log.

    gunicorn logs "Invalid request from ip=...: <the request line>" for
    malformed requests and "Error handling request <path>" when a response
    fails. Behind Tor the address is 127.0.0.1, but behind anything else it
    would be a visitor's; a path can hold report ids or, with %0a, a forged
    log line. Neither reaches the log.
    """

    _ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b|\b[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}\b")
    _HANDLING = re.compile(r"^(Error handling request)\b.*", re.DOTALL)
    _INVALID = re.compile(r"^(Invalid request from )ip=\S*?: ([^:'\"]*).*", re.DOTALL)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        message = self._HANDLING.sub(r"\1", message)
        message = self._INVALID.sub(r"\1ip=[address]: \2", message)
        record.msg = self._ADDRESS.sub("[address]", message).replace("\n", " ")
        record.args = ()
        return True


def post_worker_init(worker: object) -> None:
    """Attach the address filter to the worker's error log handlers."""
    for handler in logging.getLogger("gunicorn.error").handlers:
        handler.addFilter(_NoAddresses())


def on_starting(server: object) -> None:
    """Same filter in the master process."""
    for handler in logging.getLogger("gunicorn.error").handlers:
        handler.addFilter(_NoAddresses())
