"""The example deployment on loopback: app servers (gunicorn) behind nginx with deploy/nginx's rules.

Used by tests/ops/test_nginx.py and `make bench-load`. Everything listens on 127.0.0.1 on free ports,
lives in a temporary folder and needs no root: nginx gets its own prefix, logs, pid file and cache.
Each process is started in its own process group and stopped with it, whatever happens.
"""

import grp
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NGINX_RULES = ROOT / "deploy" / "nginx"
HOST = "127.0.0.1"


def nginx_binary():
    """The path of nginx, or None when it is not installed (`bash .ci/nginx.sh` installs it)."""
    found = shutil.which("nginx")
    if found:
        return found
    return "/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_for(url, process, what, seconds=60):
    """Wait until `url` answers 200, or fail when `process` exits or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode} before it answered {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not answer {url} within {seconds} seconds")


def stop(process, seconds=30):
    """Stop `process` and its process group: TERM, then KILL."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def app_environment(base, **values):
    """The production settings for an app server: `base` without our own variables, then `values`."""
    ours = ("DJANGO_", "REGISTRY_", "GUNICORN_", "DATABASE_URL", "REDIS_URL")
    return {
        **{name: value for name, value in base.items() if not name.startswith(ours)},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "0",
        # Plain HTTP on loopback: no TLS in front, so no redirect to HTTPS and no secure-only cookies.
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DJANGO_ALLOWED_HOSTS": HOST,
        **values,
    }


class AppServer:
    """gunicorn with config/gunicorn.py on 127.0.0.1:`port`."""

    def __init__(self, env, port=None, access_log=None):
        self.port = port or free_port()
        self.env = {**env, "GUNICORN_BIND": f"{HOST}:{self.port}", "GUNICORN_ACCESSLOG": str(access_log or "")}
        self.access_log = access_log
        self.process = None

    @property
    def address(self):
        return f"{HOST}:{self.port}"

    def start(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi"],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,  # its own process group, so that stopping it stops its workers too
        )
        try:
            wait_for(f"http://{self.address}/healthz", self.process, "gunicorn")
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self):
        stop(self.process)


def nginx_config(*, port, upstreams, folder, extra=""):
    """An nginx.conf that serves the registry on 127.0.0.1:`port` through deploy/nginx's rules.

    Everything a real site file sets for its environment (cache path, upstream addresses, the listening
    socket) is set here for loopback; the rules themselves are deploy/nginx's files, included as they are.
    `extra` goes into the server block (the benchmark adds a static file there).
    """
    user = ""
    if os.geteuid() == 0:  # workers run as this user, so that they can write the temporary folder
        user = f"user {pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name};"
    servers = "\n".join(f"        server {address};" for address in upstreams)
    return f"""
{user}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    proxy_cache_path {folder}/cache levels=1:2 keys_zone=registry:10m max_size=256m inactive=10m use_temp_path=off;
    include {NGINX_RULES}/registry-http.conf;
    upstream registry_app {{
{servers}
        keepalive 16;
    }}
    server {{
        listen {HOST}:{port};
        server_name {HOST};
        include {NGINX_RULES}/registry-proxy.conf;
{extra}
    }}
}}
"""


class Proxy:
    """nginx on 127.0.0.1 in front of `upstreams`, configured by nginx_config() in `folder`."""

    def __init__(self, upstreams, folder, port=None, extra=""):
        self.binary = nginx_binary()
        if self.binary is None:
            raise RuntimeError("nginx is not installed: run `bash .ci/nginx.sh` (Debian's package).")
        self.port = port or free_port()
        self.folder = Path(folder)
        self.config = self.folder / "nginx.conf"
        self.config.write_text(nginx_config(port=self.port, upstreams=upstreams, folder=self.folder, extra=extra))
        self.process = None

    @property
    def url(self):
        return f"http://{HOST}:{self.port}"

    def start(self):
        command = [self.binary, "-p", str(self.folder), "-c", str(self.config), "-e", str(self.folder / "error.log")]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30)
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused its configuration:\n{check.stderr}")
        self.process = subprocess.Popen(command, start_new_session=True)
        try:
            wait_for(f"{self.url}/healthz", self.process, "nginx")
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self):
        stop(self.process)
