from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and access")

    def ready(self):
        from accounts import access, sessions, signals  # noqa: F401  (connects the receivers)
        from config import checks  # noqa: F401  (registers the settings checks)
        from registry import access as registry_access

        # The registry asks the access rule through registry.access; the rule is ours.
        registry_access.install(access)

        post_migrate.connect(signals.ensure_roles_after_migrate, sender=self, dispatch_uid="accounts_ensure_roles")
