"""Who may edit what: one editors group per county governor office, with object permissions on its municipalities.

Guardian's direct foreign-key tables are used rather than its generic ones: they join on a real
foreign key (fast at scale) and rows disappear with the municipality (no orphans).
"""

from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from registry.models import CountyGovernor, Municipality


class MunicipalityUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Municipality, on_delete=models.CASCADE)


class MunicipalityGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Municipality, on_delete=models.CASCADE)


class OfficeEditors(models.Model):
    """The editors group of one county governor office."""

    county_governor = models.OneToOneField(
        CountyGovernor, verbose_name=_("county governor office"), on_delete=models.CASCADE, related_name="editors"
    )
    group = models.OneToOneField(Group, verbose_name=_("group"), on_delete=models.CASCADE, related_name="office")

    class Meta:
        verbose_name = _("office editors group")
        verbose_name_plural = _("office editors groups")

    def __str__(self):
        return self.group.name
