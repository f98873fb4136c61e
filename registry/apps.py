from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Registry")

    def ready(self):
        from django.db.models.signals import post_delete, post_save
        from simple_history.signals import post_create_historical_record

        from registry.conditional import TRACKED
        from registry.page_cache import forget_data_version

        # Any write in this process makes the shared page cache ask the database for the data version.
        for model in TRACKED:
            post_save.connect(forget_data_version, sender=model, dispatch_uid=f"page-cache-{model.__name__}-save")
            post_delete.connect(forget_data_version, sender=model, dispatch_uid=f"page-cache-{model.__name__}-delete")
        post_create_historical_record.connect(forget_data_version, dispatch_uid="page-cache-history")
