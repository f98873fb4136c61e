import pytest
from django.contrib.auth.models import AnonymousUser, Permission

from accounts.access import sees_restricted_numbers
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_anonymous_visitor_never_sees_restricted_numbers():
    assert not sees_restricted_numbers(AnonymousUser())


def test_user_with_the_permission_sees_restricted_numbers():
    user = UserFactory()
    assert not sees_restricted_numbers(user)
    user.user_permissions.add(Permission.objects.get(codename="view_authorities_only"))
    user = type(user).objects.get(pk=user.pk)
    assert sees_restricted_numbers(user)


def test_inactive_user_does_not_see_restricted_numbers():
    user = UserFactory(is_superuser=True, is_active=False)
    assert not sees_restricted_numbers(user)
