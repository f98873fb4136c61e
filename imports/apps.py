from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "imports"
    verbose_name = _("Spreadsheet imports")

    def ready(self):
        post_migrate.connect(grant_import_permissions, sender=self, dispatch_uid="imports_grant_permissions")


def grant_import_permissions(sender, **kwargs):
    # This app's permissions are created after the accounts app set up the roles: give them out now.
    from accounts.services import ensure_roles

    ensure_roles()
