"""Users and office membership, managed by national administrators only.

Editors and readers never see these pages: the registry's regions are decided by which office
group a user is in, so managing users is managing access.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from accounts.access import is_national_admin
from accounts.models import OfficeEditors

User = get_user_model()


class NationalAdminsOnly:
    """Hides a ModelAdmin from everyone but national administrators and superusers."""

    def has_module_permission(self, request):
        return is_national_admin(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return is_national_admin(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        return is_national_admin(request.user) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return is_national_admin(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_national_admin(request.user) and super().has_delete_permission(request, obj)


admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class RegistryUserAdmin(NationalAdminsOnly, UserAdmin):
    list_display = ("username", "email", "first_name", "last_name", "roles", "is_active", "last_login")
    list_filter = ("is_active", "is_staff", "groups")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("office and role"))
    def roles(self, user):
        names = [group.name for group in user.groups.all()]
        if user.is_superuser:
            names.insert(0, _("superuser"))
        return ", ".join(str(name) for name in names) or "–"

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if request.user.is_superuser:
            return fields
        # Roles come from groups; only a superuser makes a superuser or grants single permissions.
        return (*fields, "is_superuser", "user_permissions")

    def has_change_permission(self, request, obj=None):
        # A national administrator cannot take over a superuser account (by changing its password).
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Group)
class RegistryGroupAdmin(NationalAdminsOnly, GroupAdmin):
    """The role and office groups. Their permissions are set by `ensure_roles` after every migrate,
    so only superusers change them here; national administrators see who is in each."""

    list_display = ("name", "member_count")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(members=Count("user"))

    @admin.display(description=_("members"), ordering="members")
    def member_count(self, group):
        return group.members

    def has_add_permission(self, request, *args):
        return request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


@admin.register(OfficeEditors)
class OfficeEditorsAdmin(NationalAdminsOnly, admin.ModelAdmin):
    """Which group edits for which office; membership is changed on each user's page."""

    list_display = ("county_governor", "group", "editor_list")
    list_select_related = ("county_governor", "group")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("group__user_set")

    @admin.display(description=_("editors"))
    def editor_list(self, office):
        return ", ".join(user.username for user in office.group.user_set.all()) or "–"

    def has_add_permission(self, request, *args):
        return False  # One group per office, created by ensure_roles.

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
