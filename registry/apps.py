from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = _("Registry")

    def ready(self):
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from registry.models import Municipality
        from registry.versioning import ALSO_SHOWN, TRACKED, note_data_changed

        # Every change to what the list shows moves the data state its caches and ETag follow.
        for model in TRACKED + ALSO_SHOWN:
            post_save.connect(note_data_changed, sender=model, dispatch_uid=f"data-state-{model.__name__}-save")
            post_delete.connect(note_data_changed, sender=model, dispatch_uid=f"data-state-{model.__name__}-delete")
        m2m_changed.connect(
            note_data_changed, sender=Municipality.successors.through, dispatch_uid="data-state-successors"
        )
