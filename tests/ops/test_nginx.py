"""The example deployment (deploy/nginx) in front of two app servers: what the proxy's cache keeps, and for how long.

nginx and two gunicorns run on loopback with the production settings (deploy/loopback.py). They share
an SQLite file of their own, with the demo data: the test's edits must reach them from another process,
which pytest's test database (in memory, inside a transaction) cannot. What is tested is the proxy's
behaviour, which is the same whatever the database.
"""

import gzip
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from deploy.loopback import ROOT, AppServer, Proxy, app_environment, nginx_binary
from tests.web.conftest import PUBLIC_NUMBER, RESTRICTED_NUMBER

pytestmark = [
    pytest.mark.nginx,
    pytest.mark.skipif(nginx_binary() is None, reason="nginx is not installed: run `bash .ci/nginx.sh`"),
]

MAX_AGE = 3
KARI = "/kommune/5043/"
KARI_NAME = "Demo Kari Fiktivsen"


class Deployment:
    def __init__(self, folder):
        self.folder = folder
        self.env = app_environment(
            os.environ,
            DJANGO_SECRET_KEY="nginx-test-secret-key-nginx-test-secret-key-0123456789",
            DATABASE_URL=f"sqlite:///{folder / 'registry.sqlite3'}",
            DJANGO_STATIC_HASHED="0",
            REGISTRY_REQUIRE_2FA="0",
            REGISTRY_PUBLIC_MAX_AGE=str(MAX_AGE),
            REGISTRY_STALE_WHILE_REVALIDATE="2",
            GUNICORN_WORKERS="1",
            GUNICORN_MAX_REQUESTS="0",
            GUNICORN_LOGLEVEL="warning",
        )
        self.servers = [AppServer(self.env, access_log=folder / f"access-{index}.log") for index in (1, 2)]
        self.proxy = None

    def manage(self, *args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def shell(self, code):
        """Run `code` in the app's shell; return the last line it printed."""
        printed = self.manage("shell", "--no-imports", "-c", code).strip().splitlines()
        return printed[-1] if printed else ""

    def start(self):
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("load_demo_data")
        for server in self.servers:
            server.start()
        self.proxy = Proxy([server.address for server in self.servers], self.folder).start()
        return self

    def stop(self):
        if self.proxy:
            self.proxy.stop()
        for server in self.servers:
            server.stop()

    def get(self, path, **headers):
        """GET through nginx: (status, headers, body as text)."""
        request = urllib.request.Request(self.proxy.url + path, headers={"Accept-Language": "en", **headers})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
            if response.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            return response.status, response.headers, body.decode()

    def app_hits(self, path, settle=0.3):
        """How many requests for `path` reached the app servers (their access logs)."""
        time.sleep(settle)  # gunicorn writes the line once the answer is sent
        hits = 0
        for server in self.servers:
            if server.access_log.exists():
                hits += server.access_log.read_text().count(f'"GET {path} HTTP')
        return hits


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    running = Deployment(tmp_path_factory.mktemp("nginx"))
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture(scope="module")
def reader_cookie(deployment):
    """The session cookie of a national reader (sees numbers for authorities only), logged in on the app's database."""
    session = deployment.shell(
        "from django.contrib.auth.models import Permission, User; from django.test import Client; "
        "user = User.objects.create_user('fhi-reader'); "
        "user.user_permissions.add(Permission.objects.get(codename='view_authorities_only')); "
        "client = Client(); client.force_login(user); print(client.cookies['sessionid'].value)"
    )
    return f"sessionid={session}"


def test_repeated_anonymous_requests_reach_the_app_once_per_max_age(deployment):
    statuses = [deployment.get("/")[1]["X-Cache-Status"]]
    cached = time.monotonic()  # the proxy's max-age runs from when it received the answer
    statuses += [deployment.get("/")[1]["X-Cache-Status"] for _ in range(9)]
    assert time.monotonic() - cached < MAX_AGE, "too slow to stay within one max-age"
    assert statuses == ["MISS"] + ["HIT"] * 9
    assert deployment.app_hits("/") == 1
    # nginx counts whole seconds: a page kept at 10.9 s with max-age 3 is fresh until 14.0 s.
    time.sleep(max(0, cached + MAX_AGE + 1.2 - time.monotonic()))
    statuses = [deployment.get("/")[1]["X-Cache-Status"] for _ in range(10)]
    assert statuses[0] in {"EXPIRED", "REVALIDATED"} and statuses[1:] == ["HIT"] * 9
    assert deployment.app_hits("/") == 2


def test_each_encoding_gets_its_own_copy(deployment):
    status, headers, plain = deployment.get("/dekning/")
    assert headers["X-Cache-Status"] == "MISS" and "Content-Encoding" not in headers
    status, headers, unpacked = deployment.get("/dekning/", **{"Accept-Encoding": "gzip"})
    assert headers["X-Cache-Status"] == "MISS" and headers["Content-Encoding"] == "gzip" and unpacked == plain
    status, headers, again = deployment.get("/dekning/")
    assert headers["X-Cache-Status"] == "HIT" and "Content-Encoding" not in headers and again == plain


@pytest.mark.parametrize("path", ["/?q=royrvik", KARI, "/api/municipalities/5043/"])
def test_a_readers_page_is_never_served_to_an_anonymous_request(deployment, reader_cookie, path):
    for _ in range(2):
        status, headers, content = deployment.get(path, Cookie=reader_cookie)
        assert status == 200 and RESTRICTED_NUMBER.replace(" ", "") in content.replace(" ", "")
        assert headers["Cache-Control"] == "private, no-store" and headers["X-Cache-Status"] == "BYPASS"
    for _ in range(2):
        status, headers, content = deployment.get(path)
        assert status == 200 and PUBLIC_NUMBER.replace(" ", "") in content.replace(" ", "")
        assert RESTRICTED_NUMBER.replace(" ", "") not in content.replace(" ", "")
    # Nor does the reader get the anonymous copy now in the cache.
    status, headers, content = deployment.get(path, Cookie=reader_cookie)
    assert RESTRICTED_NUMBER.replace(" ", "") in content.replace(" ", "")


def test_an_edit_is_visible_through_the_proxy_within_max_age(deployment):
    assert KARI_NAME in deployment.get(KARI)[2]
    assert deployment.get(KARI)[1]["X-Cache-Status"] == "HIT"
    deployment.shell(
        "from registry.models import Physician; from registry import services; "
        f"kari = Physician.objects.get(name='{KARI_NAME}'); kari.name = 'Demo Kari Omdøpt'; "
        "services.save_entries([kari], by=services.SYSTEM, reason='test')"
    )
    edited = time.monotonic()
    while KARI_NAME in (content := deployment.get(KARI)[2]):
        assert time.monotonic() - edited < MAX_AGE + 5, "the edit did not show through the proxy"
        time.sleep(0.2)
    # The proxy keeps a page for max-age (counted in whole seconds, so up to a second more); the app
    # servers read the data version at most once a second.
    assert time.monotonic() - edited <= MAX_AGE + 2.5
    assert "Demo Kari Omdøpt" in content
    # The copy the proxy now keeps is the new one (not a file it had open before).
    for _ in range(3):
        status, headers, content = deployment.get(KARI)
        assert headers["X-Cache-Status"] == "HIT" and "Demo Kari Omdøpt" in content and KARI_NAME not in content
