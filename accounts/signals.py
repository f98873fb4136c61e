"""Set up the roles and office groups after every migrate."""

from accounts import services


def ensure_roles_after_migrate(sender, **kwargs):
    # Permissions are created by post_migrate too; run after them, for our app only.
    if sender.name == "accounts":
        services.ensure_roles()
