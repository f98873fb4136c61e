"""The registry's admin site: its name in the header and title, and the region's work as its first page.

Named by registry.apps.RegistryAdminConfig (INSTALLED_APPS); the ModelAdmins register on it as on
Django's default site (`admin.site`).
"""

from django.conf import settings
from django.contrib.admin import AdminSite
from django.utils.translation import gettext_lazy as _


class RegistryAdminSite(AdminSite):
    """The admin, named for the registry; its first page is the region's work (`work_for`)."""

    site_header = _("Kommuneoverlegeregisteret")
    site_title = _("Kommuneoverlegeregisteret")
    index_title = _("Your region's work")
    index_template = "admin/registry/home.html"

    def index(self, request, extra_context=None):
        from registry.admin_upkeep import work_for

        rows, total = work_for(request.user)
        context = {"work": rows, "work_total": total, "stale_days": settings.REGISTRY_STALE_AFTER_DAYS}
        return super().index(request, {**context, **(extra_context or {})})
