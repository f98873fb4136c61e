"""Load figures for `make bench`: gunicorn with the production settings on PostgreSQL, driven by wrk from loopback.

For each path it prints requests per second, p50/p95/p99 latency and the error count, and the ratio
of its throughput to a static file of the same size served by the same server (whitenoise, no
database, no template): how close the page comes to the fastest thing the server can do.

Everything is bounded: wrk runs BENCH_SECONDS per path; gunicorn is always stopped at the end.
Only 127.0.0.1 is ever contacted.

Environment: BENCH_DATABASE_URL (PostgreSQL; created and migrated when missing, the demo data loaded),
BENCH_PATHS (comma-separated; default below), BENCH_SECONDS (10), BENCH_CONNECTIONS (16),
BENCH_WORKERS (gunicorn workers, 2).
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
HOST, PORT = "127.0.0.1", 8765
BASE = f"http://{HOST}:{PORT}"
# The national list's ratio to its static twin is the figure to watch (target: half or more).
DEFAULT_PATHS = ["/", "/?q=raarvihke", "/kommune/5045/", "/api/municipalities/?q=grong", "/healthz"]
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "errors": %d, "p50": %d, "p95": %d, "p99": %d, ' ..
    '"detail": "connect %d, read %d, write %d, status %d, timeout %d"}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def say(message):
    print(message, file=sys.stderr, flush=True)


def ensure_wrk():
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        sys.exit("bench: wrk is missing; install it with `sudo apt-get install -y wrk`.")
    say("bench: installing wrk from Debian's packages")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env, timeout=600)


def ensure_database(url):
    import psycopg

    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"} or parsed.hostname not in {"127.0.0.1", "localhost"}:
        sys.exit("bench: BENCH_DATABASE_URL must be a PostgreSQL database on 127.0.0.1.")
    name = parsed.path.lstrip("/")
    with psycopg.connect(url.replace(parsed.path, "/postgres", 1), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, timeout=900)


def port_is_free():
    with socket.socket() as probe:
        return probe.connect_ex((HOST, PORT)) != 0


class Gunicorn:
    """gunicorn on 127.0.0.1:8765 with config/gunicorn.py; stopped on exit whatever happens."""

    def __init__(self, env):
        self.env = env
        self.process = None

    def __enter__(self):
        if not port_is_free():
            sys.exit(f"bench: something already listens on {HOST}:{PORT}; stop it first.")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,  # its own process group, so that stopping it stops its workers too
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit("bench: gunicorn did not start (see its log above).")
            try:
                with urllib.request.urlopen(BASE + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                time.sleep(0.3)
        self.stop()
        sys.exit("bench: gunicorn did not answer /healthz within 60 seconds.")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __exit__(self, *exc):
        self.stop()


def fetch_size(path):
    with urllib.request.urlopen(BASE + path, timeout=10) as response:
        return len(response.read())


def wrk(path, script):
    result = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "5s", "-s", script, BASE + path],
        capture_output=True,
        text=True,
        timeout=SECONDS + 60,
        check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH "))
    figures = json.loads(line[len("BENCH ") :])
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def main():
    # A plain `kill` of this script still runs the clean-up below (gunicorn stopped, files removed).
    signal.signal(signal.SIGTERM, lambda *args: sys.exit(143))
    paths = [p.strip() for p in os.environ.get("BENCH_PATHS", ",".join(DEFAULT_PATHS)).split(",") if p.strip()]
    database_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/registry_bench")
    ensure_wrk()
    ensure_database(database_url)
    static_root = Path(tempfile.mkdtemp(prefix="registry-bench-static-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REGISTRY_", "GUNICORN_"))},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": HOST,
        # Plain HTTP on loopback: no TLS in front, so no redirect to HTTPS. Everything else is production.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url,
        "DJANGO_STATIC_ROOT": str(static_root),
        "GUNICORN_BIND": f"{HOST}:{PORT}",
        "GUNICORN_WORKERS": str(WORKERS),
        "GUNICORN_ACCESSLOG": "",
        # No worker recycling during a 10-second run: a restart would cut connections and count as errors.
        "GUNICORN_MAX_REQUESTS": "0",
        "GUNICORN_LOGLEVEL": "warning",
    }
    try:
        say("bench: migrating, loading the demo data, collecting static files")
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "load_demo_data")
        manage(env, "collectstatic", "--noinput", "-v", "0")
        with Gunicorn(env):
            sizes = {path: fetch_size(path) for path in paths}
        # A static file of each page's size, served by the same server (whitenoise reads the folder at start).
        twins = {}
        for path, size in sizes.items():
            name = f"bench/same-size-{size}.txt"
            (static_root / "bench").mkdir(exist_ok=True)
            (static_root / name).write_bytes((b"kommuneoverlege " * (size // 16 + 1))[:size])
            twins[path] = "/static/" + name
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script, Gunicorn(env):
            script.write(REPORT)
            script.flush()
            results = []
            for path in paths:
                page = wrk(path, script.name)
                static = wrk(twins[path], script.name)
                results.append((path, sizes[path], page, static))
    finally:
        shutil.rmtree(static_root, ignore_errors=True)

    print(f"\nLoad: gunicorn ({WORKERS} workers, production settings, PostgreSQL) on {HOST}:{PORT}, ", end="")
    print(f"wrk {CONNECTIONS} connections, {SECONDS} s per path")
    print(f"{'path':<28}{'bytes':>8}{'req/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}", end="")
    print(f"{'static req/s':>14}{'errors':>8}{'ratio':>8}")
    errors = 0
    for path, size, page, static in results:
        errors += page["errors"] + static["errors"]
        print(
            f"{path:<28}{size:>8}{page['rps']:>10.0f}{page['p50'] / 1000:>9.1f}{page['p95'] / 1000:>9.1f}"
            f"{page['p99'] / 1000:>9.1f}{page['errors']:>8}{static['rps']:>14.0f}{static['errors']:>8}"
            f"{page['rps'] / static['rps']:>8.2f}"
        )
        for label, figures in (("page", page), ("static", static)):
            if figures["errors"]:
                print(f"  {path} ({label}) errors: {figures['detail']}")
    print("ratio = the page's requests/s divided by those of a static file of the same size from the same server")
    if errors:
        sys.exit(f"bench: {errors} requests failed (errors, timeouts or non-2xx/3xx answers); the target is zero.")


if __name__ == "__main__":
    main()
