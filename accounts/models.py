"""Who may edit what: one editors group per county governor office, holding an object permission on its office.

The permission is on the office, not on each municipality: an office's region is whatever its counties
hold today (registry's `kept_by` querysets), so moving a county or a municipality moves the edit rights
in the same transaction, and there is no copy of the county → office link that could drift.
Guardian's direct foreign-key tables are used rather than its generic ones: they join on a real
foreign key and rows disappear with the office (no orphans).
"""

from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from registry.models import CountyGovernor


class CountyGovernorUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(CountyGovernor, on_delete=models.CASCADE)


class CountyGovernorGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(CountyGovernor, on_delete=models.CASCADE)


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
