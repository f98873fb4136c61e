"""Static files in production: hashed names browsers may cache forever, served by whitenoise from the app server."""

import subprocess
import sys

from tests.ops.test_production_settings import PRODUCTION_HOST, ROOT, production_env

SERVE = f"""
import django; django.setup()
from django.templatetags.static import static
from django.test import Client
url = static("registry.css")
response = Client(HTTP_HOST="{PRODUCTION_HOST}").get(url, secure=True)
print(url, response.status_code, response["Cache-Control"], response["Content-Type"], sep="|")
"""


def test_collected_static_files_have_hashed_names_and_are_served_with_long_caching(tmp_path):
    env = {**production_env(DJANGO_STATIC_ROOT=str(tmp_path)), "DJANGO_SETTINGS_MODULE": "config.settings"}
    collect = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collect.returncode == 0, collect.stderr
    assert (tmp_path / "staticfiles.json").exists()
    hashed = [p for p in tmp_path.glob("registry.*.css") if not p.name.endswith(".gz")]
    assert len(hashed) == 1
    # Compressed copies for browsers that accept gzip (whitenoise skips files too small to gain from it).
    assert list((tmp_path / "admin" / "css").glob("base.*.css.gz"))

    served = subprocess.run(
        [sys.executable, "-c", SERVE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert served.returncode == 0, served.stderr
    url, status, cache_control, content_type = served.stdout.strip().split("|")
    assert url == f"/static/{hashed[0].name}" and status == "200"
    assert "immutable" in cache_control and content_type.startswith("text/css")
