"""Back up the whole registry to one JSON file, and restore it into an empty database.

Why Django's serializers and not pg_dump: the file restores into any database `migrate` made with
the same code, PostgreSQL or the embedded SQLite (moving a trial on SQLite into production works);
it needs no PostgreSQL client tools of the server's exact version on the app server; and it is
checked against the database's migrations before anything is written.

Everything is kept with its primary key — entries, history (django-simple-history), users, groups,
object permissions (django-guardian), TOTP devices, the admin log and login records — so that
references between them, also the loose ones in history rows, stay exact. Only the content types
and permissions that `migrate` creates by itself are referred to by natural key
(("registry", "municipality"); ("change_municipality", "registry", "municipality")), because their
ids differ from one database to the next. Sessions are left out: everyone logs in again.
"""

import datetime
import gzip
import json
import tempfile
from pathlib import Path

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core import serializers
from django.core.exceptions import ObjectDoesNotExist
from django.core.management import call_command
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.serializers.json import Serializer as JSONSerializer
from django.db import DatabaseError, connection, transaction
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.models import Appointment, Phone, Physician

FORMAT = "kommuneoverlegeregisteret-backup"
VERSION = 1
# Recreated by `migrate` in every database; referred to by natural key instead of copied.
CREATED_BY_MIGRATE = (ContentType, Permission)
NOT_KEPT = (*CREATED_BY_MIGRATE, Session)


class BackupError(Exception):
    """The backup cannot be made or restored; the message says why and what to do."""


class _ExactEncoder(DjangoJSONEncoder):
    """Keeps microseconds, which Django's encoder drops: updated_at is the admin's version token."""

    def default(self, o):
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


class _Serializer(JSONSerializer):
    """JSON with primary keys, except references to content types and permissions, which use natural keys."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.natural = {
            ContentType: {ct.pk: list(ct.natural_key()) for ct in ContentType.objects.all()},
            Permission: {
                permission.pk: [permission.codename, *permission.content_type.natural_key()]
                for permission in Permission.objects.select_related("content_type")
            },
        }

    def handle_fk_field(self, obj, field):
        target = field.remote_field.model
        if target in self.natural:
            value = getattr(obj, field.attname)
            self._current[field.name] = None if value is None else self.natural[target][value]
        else:
            self._current[field.name] = self._value_from_field(obj, field)

    def handle_m2m_field(self, obj, field):
        """Left out: the rows of every many-to-many table are backed up as a model of their own, ids and all."""


def backed_up_models():
    """Every model whose rows the backup holds, those others depend on first, many-to-many tables last."""
    models = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and model not in NOT_KEPT
    ]
    by_app = {}
    for model in models:
        if not model._meta.auto_created:
            by_app.setdefault(apps.get_app_config(model._meta.app_label), []).append(model)
    ordered = serializers.sort_dependencies(by_app.items(), allow_cycles=True)
    return ordered + [model for model in models if model._meta.auto_created]


def applied_migrations():
    return sorted([app, name] for app, name in MigrationRecorder(connection).applied_migrations())


def _open(path, mode):
    path = Path(path)
    return gzip.open(path, mode + "t", encoding="utf-8") if path.suffix == ".gz" else path.open(mode, encoding="utf-8")


def write_backup(path):
    """Write the whole registry to `path` (gzip-compressed when it ends in .gz); return {model label: rows}."""
    counts = {}
    outermost = not connection.in_atomic_block
    with transaction.atomic(), _open(path, "w") as out:
        if outermost and connection.vendor == "postgresql":
            # Every table read as of one moment, even while people keep editing.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        serializer = _Serializer()
        header = {
            "format": FORMAT,
            "version": VERSION,
            "created_at": timezone.now().isoformat(),
            "migrations": applied_migrations(),
        }
        out.write(json.dumps(header, ensure_ascii=False)[:-1] + ', "objects": [\n')
        first = True
        for model in backed_up_models():
            queryset = model._base_manager.order_by("pk")
            counts[model._meta.label] = queryset.count()
            if not counts[model._meta.label]:
                continue
            chunk = serializer.serialize(
                queryset.iterator(chunk_size=2000), indent=None, ensure_ascii=False, cls=_ExactEncoder
            )
            body = chunk.strip()[1:-1].strip()
            out.write(("" if first else ",\n") + body)
            first = False
        out.write("\n]}\n")
    return counts


def read_backup(path):
    """Return the parsed backup at `path`, or raise BackupError saying what is wrong with the file."""
    try:
        with _open(path, "r") as source:
            data = json.load(source)
    except FileNotFoundError:
        raise BackupError(_("There is no file %(path)s.") % {"path": path}) from None
    except (OSError, ValueError, EOFError):
        raise BackupError(
            _("%(path)s is not a backup made by `manage.py backup`: it is not readable JSON.") % {"path": path}
        ) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("objects"), list):
        raise BackupError(_("%(path)s is not a backup made by `manage.py backup`.") % {"path": path})
    if data.get("version") != VERSION:
        raise BackupError(
            _("%(path)s has backup format %(found)s; this version of the registry reads format %(expected)s.")
            % {"path": path, "found": data.get("version"), "expected": VERSION}
        )
    return data


def _check_migrations(backup):
    in_backup = {tuple(item) for item in backup["migrations"]}
    in_database = {tuple(item) for item in applied_migrations()}
    missing = sorted(in_backup - in_database)
    extra = sorted(in_database - in_backup)
    if missing or extra:
        lines = [_("The database is not at the same migration as the backup, so its tables may not fit.")]
        if missing:
            lines.append(
                _("Run `manage.py migrate` first; the database lacks: %(names)s")
                % {"names": ", ".join(".".join(item) for item in missing)}
            )
        if extra:
            lines.append(
                _("Restore with the version of the registry that made the backup; the database also has: %(names)s")
                % {"names": ", ".join(".".join(item) for item in extra)}
            )
        raise BackupError("\n".join(lines))


def existing_content():
    """Return {what: count} of the entries and accounts already in the database (what `migrate` loads excluded)."""
    counts = {
        _("users"): get_user_model().objects.count(),
        _("physicians"): Physician.objects.count(),
        _("appointments"): Appointment.objects.count(),
        _("phone numbers"): Phone.objects.count(),
    }
    return {what: count for what, count in counts.items() if count}


def _flush_tables():
    """Empty every table the backup fills, the reference data `migrate` loaded included."""
    tables = {model._meta.db_table for model in backed_up_models()} | {Session._meta.db_table}
    existing = set(connection.introspection.table_names())
    statements = connection.ops.sql_flush(no_style(), sorted(tables & existing), reset_sequences=True)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # TRUNCATE refuses tables with foreign-key checks still pending in this transaction: run them first.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for statement in statements:
            cursor.execute(statement)
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def restore_backup(path, *, force=False):
    """Replace the database's content by the backup at `path`; return the number of rows restored.

    Refuses (BackupError) a database that holds users or entries unless `force`, and a database whose
    migrations differ from the backup's. All or nothing: one transaction.
    """
    backup = read_backup(path)
    _check_migrations(backup)
    found = existing_content()
    if found and not force:
        summary = ", ".join(f"{count} {what}" for what, count in found.items())
        raise BackupError(
            _(
                "The database %(name)s is not empty (%(summary)s). Restoring replaces all of it. Restore into a new "
                "database (create it and run `manage.py migrate`), or add --force to replace what is there."
            )
            % {"name": connection.settings_dict["NAME"], "summary": summary}
        )
    with tempfile.TemporaryDirectory() as folder:
        fixture = Path(folder) / "backup.json"
        fixture.write_text(json.dumps(backup["objects"], ensure_ascii=False), encoding="utf-8")
        try:
            with transaction.atomic():
                _flush_tables()
                call_command("loaddata", str(fixture), verbosity=0)
        except (DeserializationError, DatabaseError, ObjectDoesNotExist) as error:
            raise BackupError(
                _("The backup could not be loaded, so nothing was changed: %(error)s") % {"error": error}
            ) from error
    return len(backup["objects"])
