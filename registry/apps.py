from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class RegistryAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the registry's site: its name in the header, and the region's work as its first page."""

    default = False  # named in INSTALLED_APPS; `registry` itself is RegistryConfig
    default_site = "registry.admin_site.RegistryAdminSite"


class RegistryConfig(AppConfig):
    default = True
    name = "registry"
    verbose_name = _("Registry")

    def ready(self):
        from django.db.models.signals import m2m_changed, pre_delete, pre_save

        from registry.services import GUARDED, GUARDED_LINKS, guard_write_path

        # Every write goes through registry.services, which keeps derived fields, history and the data
        # version; a save or delete anywhere else is refused before it reaches the database.
        for model in GUARDED:
            pre_save.connect(guard_write_path, sender=model, dispatch_uid=f"write-path-{model.__name__}-save")
            pre_delete.connect(guard_write_path, sender=model, dispatch_uid=f"write-path-{model.__name__}-delete")
        for link in GUARDED_LINKS:
            m2m_changed.connect(guard_write_path, sender=link, dispatch_uid=f"write-path-{link.__name__}")
