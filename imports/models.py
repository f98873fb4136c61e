"""Uploads waiting for confirmation, and the log of imports (who, when, which file, how many rows)."""

import datetime
import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# An upload holds personal data: it is deleted after confirm or cancel, and after this long at the latest.
PENDING_LIFETIME = datetime.timedelta(hours=24)


def checksum(data):
    return hashlib.sha256(bytes(data)).hexdigest()


class ImportLog(models.Model):
    """One import that was run for real (not a preview). Counts only: no names, numbers or addresses."""

    class Source(models.TextChoices):
        ADMIN = "admin", _("admin")
        COMMAND = "command", _("command")

    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    file_name = models.CharField(_("file name"), max_length=200)
    file_format = models.CharField(_("format"), max_length=10, blank=True)
    saved = models.BooleanField(_("saved"), help_text=_("No when nothing was saved because rows had errors."))
    skip_invalid = models.BooleanField(_("imported valid rows only"), default=False)
    end_missing = models.BooleanField(_("ended missing appointments"), default=False)
    rows_new = models.PositiveIntegerField(_("new"), default=0)
    rows_updated = models.PositiveIntegerField(_("updated"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rows_skipped = models.PositiveIntegerField(_("skipped"), default=0)
    rows_rejected = models.PositiveIntegerField(_("errors"), default=0)
    appointments_missing = models.PositiveIntegerField(_("missing from the sheet"), default=0)
    appointments_ended = models.PositiveIntegerField(_("appointments ended"), default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        # Checked by name through IMPORT_EXPORT_IMPORT/EXPORT_PERMISSION_CODE ("import", "export").
        permissions = [
            ("import_importlog", _("Can import contact spreadsheets")),
            ("export_importlog", _("Can export contact spreadsheets")),
        ]

    def __str__(self):
        return f"{self.file_name} ({timezone.localtime(self.created_at):%d.%m.%Y %H:%M})"


class PendingImportQuerySet(models.QuerySet):
    def expired(self, now=None):
        return self.filter(created_at__lt=(now or timezone.now()) - PENDING_LIFETIME)


class PendingImport(models.Model):
    """An uploaded sheet waiting for its preview to be confirmed, or a file of rejected rows to fetch.

    Stored in the database, so that any app server can confirm it; tied to the user who uploaded it.
    """

    class Kind(models.TextChoices):
        UPLOAD = "upload", _("upload")
        REJECTS = "rejects", _("rejected rows")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.UPLOAD)
    # Shown to the user only; never used as a path.
    file_name = models.CharField(_("file name"), max_length=200)
    data = models.BinaryField(_("content"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    # The rows as the preview read them, so that the confirm does not parse the file a second time.
    sheet = models.JSONField(_("rows"), null=True, blank=True, editable=False)
    # Why the file could not be read, so that reloading the preview does not parse it again.
    read_error = models.TextField(_("read error"), blank=True, editable=False)
    log = models.ForeignKey(
        ImportLog, verbose_name=_("import"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    objects = PendingImportQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("pending import")
        verbose_name_plural = _("pending imports")

    def __str__(self):
        return self.file_name

    def is_intact(self):
        """Return True when the stored bytes still have the checksum taken at upload."""
        return checksum(self.data) == self.sha256
