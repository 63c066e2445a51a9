"""gunicorn's settings for the web process (gunicorn reads ./gunicorn.conf.py on its own; the
Dockerfile, docker-compose.yml and bench_intake start it from the project root).

The shape is the one bench_intake measures for the opening rush on 2 cores: one process per
core, 8 threads each (the requests wait on PostgreSQL, Redis and the upload's socket).

`reuse_port`: every worker listens on its own socket (SO_REUSEPORT) and the kernel spreads new
connections across them evenly. On one shared socket whichever worker woke first took the
burst: 200 clients connecting at 10:00 split 146 / 54 (measured), and the clients of the
busier process waited 2.7 times as long — the slowest percent of the rush was that process.

`access_log_format`: gunicorn's default line without the query string (`%(r)s` is the request
line with it; `?q=<ID number>` from a reviewer's search would land in the log) and without
the referer (a page's URL with its query string): method, path and protocol instead.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = 8
keepalive = 30
timeout = 30
backlog = 2048
reuse_port = True
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
