"""`manage.py backup` and `manage.py restore` move the registry with nothing lost, and nothing else in."""

import base64
import gzip
import json
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import translation

from registry.backup import checksum, is_kept
from registry.models import Physician
from tests.factories import PhysicianFactory, UserFactory
from tests.ops.registry_snapshot import LEFT_OUT, MUST_HAVE_ROWS, differences, fill_registry, snapshot

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.fixture(autouse=True)
def norwegian():
    """The commands print in the language in force, as on a server; other tests may have left English on."""
    with translation.override("nb"):
        yield


@pytest.fixture
def backup_file(tmp_path):
    return tmp_path / "registry-backup.json.gz"


def kept(tables):
    """The tables of a snapshot that a backup holds."""
    return {table: rows for table, rows in tables.items() if table not in LEFT_OUT}


def without_the_restores_changes(before, after):
    """`after` with the changes a restore adds to the feed taken out, having checked them: the backup's own
    changes come back as they were, and after them one new change for every municipality (registry.feed), so
    that whoever follows the feed gets the registry as restored."""
    old, new = before["registry_change"], after["registry_change"]
    assert set(old) <= set(new)
    latest = max(dict(row)["id"] for row in old)
    added = [dict(row) for row in new if row not in old]
    assert min(row["id"] for row in added) > latest
    municipalities = after["registry_municipality"]
    assert sorted(row["number"] for row in added) == sorted(dict(row)["number"] for row in municipalities)
    return {**after, "registry_change": old}


def read(path):
    with gzip.open(path, "rt", encoding="utf-8") if str(path).endswith(".gz") else open(path, encoding="utf-8") as f:
        return json.load(f)


def rewrite(path, data):
    """Write `data` as a backup at `path` with a checksum that matches: as `backup` would have made it."""
    header = {key: value for key, value in data.items() if key not in ("objects", "sha256")}
    Path(path).write_text(json.dumps({**data, "sha256": checksum(header, data["objects"])}), encoding="utf-8")


@pytest.mark.django_db
def test_restore_gives_back_every_row_of_every_kept_table_and_empties_the_rest(backup_file):
    fill_registry()
    before = snapshot(connection)
    assert all(before[table] for table in MUST_HAVE_ROWS + LEFT_OUT), [
        t for t in MUST_HAVE_ROWS + LEFT_OUT if not before[t]
    ]
    call_command("backup", str(backup_file))
    # Damage it every way a bad day could: deletions, edits, a stray account.
    Physician.objects.filter(pk=Physician.objects.order_by("pk").first().pk).update(name="Overskrevet")
    UserFactory(username="inntrenger")

    call_command("restore", str(backup_file), "--force")

    after = without_the_restores_changes(before, snapshot(connection))
    assert kept(after) == kept(before), differences(kept(before), kept(after))
    assert {table: after[table] for table in LEFT_OUT} == dict.fromkeys(LEFT_OUT, [])


@pytest.mark.django_db
def test_a_backup_holds_only_the_registry_and_the_accounts_it_owns(backup_file):
    fill_registry()
    call_command("backup", str(backup_file))
    models = {obj["model"] for obj in read(backup_file)["objects"]}

    for label in ("registry.physician", "registry.historicalphysician", "registry.municipality_successors",
                  "accounts.officeeditors", "accounts.countygovernorgroupobjectpermission", "auth.user",
                  "auth.group", "auth.user_groups", "auth.group_permissions", "otp_totp.totpdevice"):  # fmt: skip
        assert label in models
    for label in ("admin.logentry", "axes.accessattempt", "sessions.session", "guardian.userobjectpermission",
                  "auth.permission", "contenttypes.contenttype"):  # fmt: skip
        assert label not in models


def test_every_model_of_the_registry_imports_and_accounts_apps_is_kept():
    # A model added to these apps later is backed up and restored without a change here.
    for app in ("registry", "imports", "accounts", "otp_totp"):
        assert all(is_kept(model) for model in apps.get_app_config(app).get_models(include_auto_created=True))


@pytest.mark.django_db
def test_restore_refuses_a_file_holding_other_models_and_names_them(tmp_path):
    plain = tmp_path / "backup.json"
    UserFactory(username="kari")
    call_command("backup", str(plain))
    data = read(plain)
    data["objects"] += [
        {"model": "sessions.session", "pk": "x" * 32, "fields": {"session_data": "", "expire_date": "2099-01-01"}},
        {"model": "admin.logentry", "pk": 1, "fields": {"action_flag": 1, "user": 1, "object_repr": "x"}},
        {"model": "admin.logentry", "pk": 2, "fields": {"action_flag": 1, "user": 1, "object_repr": "y"}},
    ]
    rewrite(plain, data)
    PhysicianFactory(name="Blir stående")

    with pytest.raises(CommandError, match=r"admin\.logentry \(2\), sessions\.session \(1\)") as refused:
        call_command("restore", str(plain), "--force")

    assert "ingenting ble gjenopprettet" in str(refused.value)
    assert Physician.objects.filter(name="Blir stående").exists()


@pytest.mark.django_db
def test_restore_refuses_a_file_changed_after_the_backup(tmp_path):
    plain = tmp_path / "backup.json"
    UserFactory(username="kari")
    call_command("backup", str(plain))
    data = read(plain)
    for obj in data["objects"]:
        if obj["model"] == "auth.user":
            obj["fields"]["is_superuser"] = True  # an edit by hand, checksum left as it was
    plain.write_text(json.dumps(data), encoding="utf-8")

    with pytest.raises(CommandError, match="kontrollsummen stemmer ikke"):
        call_command("restore", str(plain), "--force")

    assert not get_user_model().objects.filter(is_superuser=True).exists()


@pytest.mark.django_db
def test_restore_refuses_a_file_without_its_checksum(tmp_path):
    plain = tmp_path / "backup.json"
    call_command("backup", str(plain))
    data = read(plain)
    del data["sha256"]
    plain.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError, match="kontrollsummen stemmer ikke"):
        call_command("restore", str(plain), "--force")


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["backup.json", "backup.json.gz"])
def test_the_backup_file_is_readable_by_its_owner_only(tmp_path, name):
    target = tmp_path / name
    target.write_text("an older file, readable by everyone")
    target.chmod(0o644)
    old_umask = os.umask(0)
    try:
        call_command("backup", str(target))
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert read(target)["format"] == "kommuneoverlegeregisteret-backup"
    # Nothing is left beside it (the temporary file it was written to).
    assert [path.name for path in tmp_path.iterdir()] == [name]


@pytest.mark.django_db
def test_new_entries_after_a_restore_get_fresh_ids(backup_file):
    fill_registry()
    highest = Physician.objects.order_by("-pk").first().pk
    call_command("backup", str(backup_file))
    call_command("restore", str(backup_file), "--force")
    assert PhysicianFactory().pk > highest


@pytest.mark.django_db
def test_restore_refuses_a_database_that_is_not_empty(backup_file):
    PhysicianFactory()
    call_command("backup", str(backup_file))
    PhysicianFactory(name="Ny etter sikkerhetskopien")

    with pytest.raises(CommandError, match=r"ikke tom \(1 brukere|ikke tom \(2 leger") as refused:
        call_command("restore", str(backup_file))

    assert "--force" in str(refused.value)
    assert Physician.objects.filter(name="Ny etter sikkerhetskopien").exists()


@pytest.mark.django_db
def test_a_backup_that_does_not_load_changes_nothing(tmp_path):
    plain = tmp_path / "backup.json"
    UserFactory(username="kari").user_permissions.add(Permission.objects.get(codename="view_physician"))
    call_command("backup", str(plain))
    data = json.loads(plain.read_text())
    for obj in data["objects"]:
        if obj["model"] == "auth.user_user_permissions":
            # A permission this database does not have (as from a database some other code migrated).
            obj["fields"]["permission"] = ["view_spaceship", "registry", "physician"]
    rewrite(plain, data)
    PhysicianFactory(name="Blir stående")

    with pytest.raises(CommandError, match="ingenting ble endret"):
        call_command("restore", str(plain), "--force")

    assert Physician.objects.filter(name="Blir stående").exists()


@pytest.mark.django_db
def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    other = tmp_path / "kommuner.csv"
    other.write_text("kommunenummer,navn\n5045,Grong\n")
    with pytest.raises(CommandError, match="ikke en sikkerhetskopi"):
        call_command("restore", str(other))


@pytest.mark.django_db
def test_restore_refuses_a_backup_from_another_schema_version(tmp_path):
    plain = tmp_path / "backup.json"
    call_command("backup", str(plain))
    data = json.loads(plain.read_text())
    data["migrations"].append(["registry", "9999_from_the_future"])
    rewrite(plain, data)

    with pytest.raises(CommandError, match="manage.py migrate") as refused:
        call_command("restore", str(plain), "--force")

    assert "registry.9999_from_the_future" in str(refused.value)


def database_url(name):
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return f"postgres://{settings['USER']}{password}@{settings['HOST']}:{settings['PORT'] or 5432}/{name}"


def manage(*args, database):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(database)},
        capture_output=True,
        text=True,
        timeout=600,
    )


SNAPSHOT = """
import base64, pickle, sys, django
django.setup()
from django.db import connection
from tests.ops.registry_snapshot import snapshot
sys.stdout.write(base64.b64encode(pickle.dumps(snapshot(connection))).decode())
"""


def snapshot_of(database):
    """Read every table of another database, in a process of its own (the test process has one database)."""
    result = subprocess.run(
        [sys.executable, "-c", SNAPSHOT],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(database), "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()
    return pickle.loads(base64.b64decode(result.stdout))


@pytest.fixture
def empty_database():
    """A second PostgreSQL database, freshly migrated, as a new server would have; dropped afterwards."""
    name = connection.settings_dict["NAME"] + "_restore"
    admin_url = database_url("postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        migrated = manage("migrate", "--noinput", database=name)
        assert migrated.returncode == 0, migrated.stderr
        yield name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL=postgres://…)")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_backup_restores_into_a_new_empty_database_identical(backup_file, empty_database):
    fill_registry()
    before = snapshot(connection)

    made = manage("backup", str(backup_file), database=connection.settings_dict["NAME"])
    restored = manage("restore", str(backup_file), database=empty_database)
    again = manage("restore", str(backup_file), database=empty_database)

    assert made.returncode == 0, made.stderr
    assert restored.returncode == 0, restored.stderr
    after = without_the_restores_changes(before, snapshot_of(empty_database))
    # Phones' content type has another id in the new database: the restore mapped it by name.
    phone_type = "SELECT id FROM django_content_type WHERE app_label = 'registry' AND model = 'phone'"
    with psycopg.connect(database_url(empty_database)) as target, connection.cursor() as source:
        source.execute(phone_type)
        assert target.execute(phone_type).fetchone() != source.fetchone()
    assert kept(after) == kept(before), differences(kept(before), kept(after))
    assert again.returncode != 0 and "ikke tom" in again.stderr
    # The restore moved the data version on from the one backed up, so no cache serves what was there.
    counter = "SELECT counter FROM registry_dataversion WHERE id = 1"
    with psycopg.connect(database_url(empty_database)) as target, connection.cursor() as source:
        source.execute(counter)
        assert target.execute(counter).fetchone()[0] > source.fetchone()[0]
