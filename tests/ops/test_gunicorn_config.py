"""The gunicorn configuration reads its values from the environment."""

import runpy
from pathlib import Path

CONFIG = Path(__file__).resolve().parent.parent.parent / "config" / "gunicorn.py"


def test_gunicorn_defaults_are_for_one_local_server(monkeypatch):
    for name in ("GUNICORN_BIND", "GUNICORN_WORKERS", "GUNICORN_ACCESSLOG"):
        monkeypatch.delenv(name, raising=False)
    config = runpy.run_path(str(CONFIG))
    assert config["bind"] == "127.0.0.1:8000" and config["workers"] >= 3
    assert config["timeout"] == 30 and config["accesslog"] == "-"


def test_gunicorn_takes_bind_workers_and_timeouts_from_the_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_BIND", "0.0.0.0:9000")
    monkeypatch.setenv("GUNICORN_WORKERS", "7")
    monkeypatch.setenv("GUNICORN_TIMEOUT", "12")
    monkeypatch.setenv("GUNICORN_ACCESSLOG", "")
    config = runpy.run_path(str(CONFIG))
    assert (config["bind"], config["workers"], config["timeout"], config["accesslog"]) == ("0.0.0.0:9000", 7, 12, None)
