"""gunicorn's settings for Contacts Portal in production. gunicorn reads
this file from the folder it starts in:

    .venv/bin/gunicorn contacts_portal.wsgi:application

A machine runs it twice (README "Production"): the pages' pool, which the
proxy sends everything to, and the webhooks' pool, which gets
/tickets/webhook/ only and runs at nice 10 under the idle scheduling
policy, so that an agent's page wins the cores over a burst of messages
(the messages wait a little; the agent does not). Each is sized for a machine of 2 cores (every number can be
overridden from the environment, as noted):

- 2 worker processes (WEB_CONCURRENCY), one per core: a process runs one
  thread of Python at a time (the GIL), so processes are what use the
  cores. Fewer and one pool could not use both cores when the other is
  idle.
- 4 threads each (GUNICORN_THREADS), "gthread" workers: a request spends
  much of its time waiting for PostgreSQL (a search at a million contacts
  most of it; a webhook its commit), and a thread lets its process serve
  another request during that wait. 2 × 4 = 8 requests in progress keep
  both cores busy; more threads only queue behind the GIL and lengthen the
  slowest requests, while the task workers and PostgreSQL need the same
  two cores.
- Each thread holds one database connection (CONN_MAX_AGE keeps it 60 s,
  so a request does not pay for a new backend): 8 per pool, 16 per
  machine, plus one per task worker. PostgreSQL's default of 100
  connections is enough for five such machines.

benchmarks/load.py serves the product this way; its figures are in the
README ("Production").
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# gunicorn's control socket (for `gunicornc`) is one path per user unless
# set, and a machine runs two pools (README "Production"): the second took
# the first's socket away, and the two logged an error when they started
# together. One socket per address, in gunicorn's own folder for them.
_runtime = os.environ.get("XDG_RUNTIME_DIR", "")
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or os.path.join(
    _runtime if os.path.isdir(_runtime) else os.path.join(os.path.expanduser("~"), ".gunicorn"),
    "gunicorn-" + "".join(c if c.isalnum() else "-" for c in bind) + ".ctl",
)
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Keep-alive behind a reverse proxy that reuses its connections.
keepalive = 5
# A worker silent this long is restarted (a 50 MB upload on a slow line
# is read by the proxy, not by us).
timeout = 60
graceful_timeout = 30
# Restart a worker after this many requests (a little jitter, so that both
# do not restart at once): a slow leak in a library never grows for weeks.
# At 100 requests a second (benchmarks/load.py) that is every few hours; at
# 5,000 a worker was replaced every minute under load, a second of CPU each.
max_requests = 500_000
max_requests_jitter = 50_000
# Requests are logged by the proxy; errors go to stderr.
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
