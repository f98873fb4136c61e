"""Load figures for `make bench`: gunicorn with the production settings on PostgreSQL, driven by wrk from loopback.

For each path it prints requests per second, p50/p95/p99 latency and the error count, and the ratio
of its throughput to a static file of the same size served by the same server (whitenoise, no
database, no template): how close the page comes to the fastest thing the server can do.

Then the national list as most clients fetch it, with `Accept-Encoding: gzip`: from gunicorn, and
through nginx with the example deployment's rules (deploy/nginx, run by deploy/loopback.py), each
against a static file of the same bytes from the same server. Goals: the compressed list under 40 KB,
and nginx serving it at least as fast as it serves that static file.

Everything is bounded: wrk runs BENCH_SECONDS per path; gunicorn is always stopped at the end.
Only 127.0.0.1 is ever contacted.

Environment: BENCH_DATABASE_URL (PostgreSQL; created and migrated when missing, the demo data loaded),
BENCH_PATHS (comma-separated; default below), BENCH_SECONDS (10), BENCH_CONNECTIONS (16),
BENCH_WORKERS (gunicorn workers, 2), BENCH_NGINX_ROUNDS (3). nginx is installed from Debian when missing (.ci/nginx.sh).
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
sys.path.insert(0, str(ROOT))
HOST, PORT = "127.0.0.1", 8765
BASE = f"http://{HOST}:{PORT}"
# The national list's ratio to its static twin is the figure to watch (target: half or more).
DEFAULT_PATHS = ["/", "/?q=raarvihke", "/kommune/5045/", "/api/municipalities/?q=grong", "/healthz"]
GZIP = {"Accept-Encoding": "gzip"}
# The compressed national list should fit in this (issue 13).
COMPRESSED_LIST_GOAL = 40 * 1024
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
# The list through nginx and its static twin are measured in turns, this many times each, and compared
# by their medians: on a shared two-core machine one run of each differs by a tenth or more either way.
NGINX_ROUNDS = int(os.environ.get("BENCH_NGINX_ROUNDS", "3"))
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


def ensure_nginx():
    """True when nginx is there (installed from Debian when missing and we may)."""
    from deploy.loopback import nginx_binary

    if nginx_binary() is None and os.geteuid() == 0:
        say("bench: installing nginx from Debian's packages")
        subprocess.run(["bash", str(ROOT / ".ci" / "nginx.sh")], check=True, timeout=600, stdout=sys.stderr)
    if nginx_binary() is None:
        say("bench: nginx is missing (`sudo bash .ci/nginx.sh`); the figures through nginx are left out.")
        return False
    return True


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


def fetch(url, headers=None):
    """The body of `url` as sent (compressed when it was), and its Content-Encoding."""
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read(), response.headers.get("Content-Encoding", "")


def fetch_size(path):
    return len(fetch(BASE + path)[0])


def wrk(path, script, base=BASE, headers=None):
    options = ["-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--timeout", "5s", "-s", script]
    options += [option for name, value in (headers or {}).items() for option in ("-H", f"{name}: {value}")]
    result = subprocess.run(
        ["wrk", *options, base + path],
        capture_output=True,
        text=True,
        timeout=SECONDS + 60,
        check=True,
    )
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH "))
    figures = json.loads(line[len("BENCH ") :])
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    return figures


def median_run(runs):
    """The run with the median requests/s of `runs` (an odd number), so that its latencies go with it."""
    return sorted(runs, key=lambda figures: figures["rps"])[len(runs) // 2]


def through_nginx(script, compressed):
    """wrk figures for / with gzip through nginx (deploy/nginx's rules) and for nginx serving the same bytes.

    Returns (the list's median run, the static file's median run, the requests/s of every run of each).
    """
    from deploy.loopback import Proxy

    folder = Path(tempfile.mkdtemp(prefix="registry-bench-nginx-"))
    try:
        (folder / "list.html.gz").write_bytes(compressed)
        # The same bytes from disk, with the headers a browser needs to read them as the page.
        static = (
            f"        location = /bench-static/list.html.gz {{\n"
            f"            alias {folder}/list.html.gz;\n"
            f"            default_type text/html;\n"
            f'            add_header Content-Encoding "gzip";\n'
            f"        }}"
        )
        proxy = Proxy([f"{HOST}:{PORT}"], folder, extra=static).start()
        try:
            fetch(proxy.url + "/", GZIP)  # the first request fills the cache
            pages, statics = [], []
            for _ in range(NGINX_ROUNDS):  # in turns, so that a busy moment of the machine hits both
                pages.append(wrk("/", script, base=proxy.url, headers=GZIP))
                statics.append(wrk("/bench-static/list.html.gz", script, base=proxy.url, headers=GZIP))
            rates = {"page": [run["rps"] for run in pages], "static": [run["rps"] for run in statics]}
            return median_run(pages), median_run(statics), rates
        finally:
            proxy.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


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
        with Gunicorn(env):
            compressed, encoding = fetch(BASE + "/", GZIP)
            fetch_size_of_plain_list = fetch_size("/")
        if encoding != "gzip":
            sys.exit(f"bench: / with Accept-Encoding: gzip came back with Content-Encoding {encoding!r}, not gzip.")
        # A static file of the compressed list's bytes, for gunicorn (whitenoise) and for nginx.
        (static_root / "bench" / "list.html.gz").write_bytes(compressed)
        with_nginx = ensure_nginx()
        with tempfile.NamedTemporaryFile("w", suffix=".lua") as script, Gunicorn(env):
            script.write(REPORT)
            script.flush()
            results = []
            for path in paths:
                page = wrk(path, script.name)
                static = wrk(twins[path], script.name)
                results.append((path, sizes[path], page, static))
            gzip_results = [
                (
                    "gunicorn",
                    wrk("/", script.name, headers=GZIP),
                    wrk("/static/bench/list.html.gz", script.name),
                )
            ]
            nginx_rates = None
            if with_nginx:
                page, static, nginx_rates = through_nginx(script.name, compressed)
                gzip_results.append(("nginx", page, static))
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

    plain_size = sizes.get("/") or fetch_size_of_plain_list
    print(f"\nThe national list with Accept-Encoding: gzip: {len(compressed)} bytes per response", end=" ")
    print(f"({len(compressed) / plain_size:.2f} of the {plain_size} plain bytes)")
    verdict = "met" if len(compressed) < COMPRESSED_LIST_GOAL else "NOT met"
    print(f"Goal: the compressed list under {COMPRESSED_LIST_GOAL // 1024} KB: {verdict}")
    print(f"{'server':<28}{'bytes':>8}{'req/s':>10}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}", end="")
    print(f"{'static req/s':>14}{'errors':>8}{'ratio':>8}")
    for server, page, static in gzip_results:
        errors += page["errors"] + static["errors"]
        print(
            f"{server + ' /':<28}{len(compressed):>8}{page['rps']:>10.0f}{page['p50'] / 1000:>9.1f}"
            f"{page['p95'] / 1000:>9.1f}{page['p99'] / 1000:>9.1f}{page['errors']:>8}{static['rps']:>14.0f}"
            f"{static['errors']:>8}{page['rps'] / static['rps']:>8.2f}"
        )
    print("static = a file of the compressed list's bytes from the same server (whitenoise; nginx from disk)")
    if nginx_rates:
        print(f"nginx: {NGINX_ROUNDS} runs of each in turns, the median shown;", end=" ")
        print(f"list req/s {' '.join(f'{rate:.0f}' for rate in nginx_rates['page'])},", end=" ")
        print(f"static req/s {' '.join(f'{rate:.0f}' for rate in nginx_rates['static'])}")
    for server, page, static in gzip_results:
        if server == "nginx":
            verdict = "met" if page["rps"] >= static["rps"] else "NOT met"
            print(f"Goal: through nginx at least as fast as nginx serving the same bytes: {verdict}", end=" ")
            print(f"({page['rps'] / static['rps']:.2f}x)")
    if errors:
        sys.exit(f"bench: {errors} requests failed (errors, timeouts or non-2xx/3xx answers); the target is zero.")


if __name__ == "__main__":
    main()
