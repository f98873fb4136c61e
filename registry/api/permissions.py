from rest_framework.permissions import BasePermission

from registry.access import may_view_list


class ListAccess(BasePermission):
    """The API is as open as the national list (REGISTRY_LIST_REQUIRES_LOGIN)."""

    def has_permission(self, request, view):
        return may_view_list(request.user)
