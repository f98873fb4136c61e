"""Back up the registry to one JSON file, and restore it into an empty database.

Why Django's serializers and not pg_dump: the file restores into any database `migrate` made with
the same code, PostgreSQL or the embedded SQLite (moving a trial on SQLite into production works);
it needs no PostgreSQL client tools of the server's exact version on the app server; and it is
checked against the database's migrations before anything is written.

What a backup holds, and all a restore loads (`is_kept`): the registry's own tables and the
accounts it owns, each row with its primary key so that references between them, also the loose
ones in history rows, stay exact:

- every model of the apps in KEPT_APPS: `registry` (entries, history, reforms), `imports` (the
  import log and pending uploads), `accounts` (the offices' editors groups and their object
  permissions on municipalities) and `otp_totp` (second-factor devices: without them every account
  would set up a new app after a restore, and whoever logs in first with a password would choose it);
- from Django's `auth`: users, groups, and which groups and permissions each holds (KEPT_AUTH_MODELS).

A new model in one of those apps is kept automatically. Left out, and emptied by a restore: sessions
(everyone logs in again), the admin's own action log (the registry's history is in `registry`),
axes' login records, and guardian's generic object permissions (the registry grants through the
direct tables in `accounts`). Content types and permissions are created by `migrate` in every
database; rows refer to them by natural key (("registry", "municipality");
("change_municipality", "registry", "municipality")), because their ids differ between databases.

The file ends with a SHA-256 checksum of its header and rows, and `restore` refuses a file whose
checksum does not match or that holds rows of any other model, naming them. The checksum catches
damage and hand edits; it is no signature (whoever can write the file can compute a new one), so a
backup is kept like the database itself: it holds password hashes and second-factor keys. `backup`
creates its file readable by its owner only.
"""

import contextlib
import datetime
import gzip
import hashlib
import io
import json
import os
import tempfile
from collections import Counter
from pathlib import Path

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
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
# 2: only the kept models, and a checksum at the end.
VERSION = 2
# Recreated by `migrate` in every database; referred to by natural key instead of copied.
CREATED_BY_MIGRATE = (ContentType, Permission)
# Every model of these apps is backed up and restored (see the module docstring).
KEPT_APPS = ("registry", "imports", "accounts", "otp_totp")
# From Django's auth app: users, groups, and what each holds (the many-to-many tables).
KEPT_AUTH_MODELS = (
    "auth.user",
    "auth.group",
    "auth.user_groups",
    "auth.user_user_permissions",
    "auth.group_permissions",
)
BATCH = 2000


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


def is_kept(model):
    """Return True when the backup holds `model`'s rows and a restore may load them."""
    meta = model._meta
    return (
        meta.managed
        and not meta.proxy
        and model not in CREATED_BY_MIGRATE
        and (meta.app_label in KEPT_APPS or meta.label_lower in KEPT_AUTH_MODELS)
    )


def _tables():
    """Every model with a table of its own, many-to-many tables included."""
    models = apps.get_models(include_auto_created=True)
    return [model for model in models if model._meta.managed and not model._meta.proxy]


def backed_up_models():
    """Every model whose rows the backup holds, those others depend on first, many-to-many tables last."""
    models = [model for model in _tables() if is_kept(model)]
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


@contextlib.contextmanager
def _private_writer(path):
    """Yield a text stream that becomes `path` (gzip when it ends in .gz) once complete, readable by its owner only.

    Written to a temporary file beside it (created 0600, whatever the umask) and renamed at the end,
    so a failed backup never leaves half a file under the name of a good one.
    """
    path = Path(path)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with contextlib.ExitStack() as stack:
            raw = stack.enter_context(os.fdopen(descriptor, "wb"))
            if path.suffix == ".gz":
                raw = stack.enter_context(gzip.GzipFile(filename=path.stem, mode="wb", fileobj=raw))
            yield stack.enter_context(io.TextIOWrapper(raw, encoding="utf-8"))
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _canonical(value):
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def checksum(header, objects):
    """Return the SHA-256 (hex) of a backup's header (without the checksum) and rows, as `backup` writes it."""
    digest = hashlib.sha256(_canonical(header) + b"\n")
    for obj in objects:
        digest.update(_canonical(obj) + b"\n")
    return digest.hexdigest()


def _batches(queryset):
    batch = []
    for row in queryset.iterator(chunk_size=BATCH):
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def write_backup(path):
    """Write the registry to `path` (gzip-compressed when it ends in .gz, mode 0600); return {model label: rows}."""
    counts = {}
    outermost = not connection.in_atomic_block
    with transaction.atomic(), _private_writer(path) as out:
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
        digest = hashlib.sha256(_canonical(header) + b"\n")
        out.write(json.dumps(header, ensure_ascii=False)[:-1] + ', "objects": [\n')
        first = True
        for model in backed_up_models():
            queryset = model._base_manager.order_by("pk")
            counts[model._meta.label] = 0
            for batch in _batches(queryset):
                # Read back as the restore will read it, so that both hash the same values.
                objects = json.loads(serializer.serialize(batch, ensure_ascii=False, cls=_ExactEncoder))
                for obj in objects:
                    digest.update(_canonical(obj) + b"\n")
                    out.write(("" if first else ",\n") + json.dumps(obj, ensure_ascii=False))
                    first = False
                counts[model._meta.label] += len(objects)
        out.write(f'\n], "sha256": "{digest.hexdigest()}"}}\n')
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
    header = {key: value for key, value in data.items() if key not in ("objects", "sha256")}
    if data.get("sha256") != checksum(header, data["objects"]):
        raise BackupError(
            _(
                "%(path)s has been changed or damaged since `manage.py backup` wrote it (its checksum does not "
                "match), so nothing was restored. Restore an untouched copy of the backup."
            )
            % {"path": path}
        )
    _check_models(path, data["objects"])
    return data


def _check_models(path, objects):
    """Refuse a backup holding rows of any model a restore does not load, naming them and their row counts."""
    kept = {model._meta.label_lower for model in backed_up_models()}
    found = Counter(obj.get("model") if isinstance(obj, dict) else None for obj in objects)
    others = sorted((str(label), count) for label, count in found.items() if label not in kept)
    if others:
        raise BackupError(
            _(
                "%(path)s holds rows a restore does not load, so nothing was restored: %(models)s. A backup holds "
                "only the registry's entries and history, imports, users, groups, office permissions and "
                "second-factor devices; make one with `manage.py backup`."
            )
            % {"path": path, "models": ", ".join(f"{label} ({count})" for label, count in others)}
        )


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
    """Empty every table but those `migrate` fills for itself: the backup's, the reference data and the rest.

    Sessions, the admin's log, login records and guardian's generic grants refer to the users being
    replaced, so they go too.
    """
    tables = {model._meta.db_table for model in _tables() if model not in CREATED_BY_MIGRATE}
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
