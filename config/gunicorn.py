"""Gunicorn settings for production: `gunicorn -c config/gunicorn.py config.wsgi`.

Every value comes from the environment (see .env.example), with defaults for one small server.
"""

import multiprocessing

from config.env import env_int, env_list, env_str

bind = env_str("GUNICORN_BIND", default="127.0.0.1:8000")
# Sync workers: the views are short database reads and writes; (2 x cores) + 1 is gunicorn's advice.
workers = env_int("GUNICORN_WORKERS", default=2 * multiprocessing.cpu_count() + 1)
threads = env_int("GUNICORN_THREADS", default=1)
# A request that takes longer than this is stuck: its worker is killed and replaced.
timeout = env_int("GUNICORN_TIMEOUT", default=30)
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", default=30)
keepalive = env_int("GUNICORN_KEEPALIVE", default=5)
# Recycle workers now and then, so that a slow leak cannot grow without bound.
max_requests = env_int("GUNICORN_MAX_REQUESTS", default=2000)
max_requests_jitter = env_int("GUNICORN_MAX_REQUESTS_JITTER", default=200)
# Only the proxies named here may say that a request came over HTTPS (X-Forwarded-Proto).
forwarded_allow_ips = ",".join(env_list("GUNICORN_FORWARDED_ALLOW_IPS", default=["127.0.0.1", "::1"]))
# "-" is standard output; empty switches the access log off (the load benchmark does).
accesslog = env_str("GUNICORN_ACCESSLOG", default="-") or None
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = env_str("GUNICORN_LOGLEVEL", default="info")
# Heartbeat files in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm"
# Header limits well above what the registry needs, well below what a slow-loris attack would like.
limit_request_line = 8190
limit_request_fields = 100
