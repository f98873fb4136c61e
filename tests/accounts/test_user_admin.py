"""Users and office membership: managed by national administrators, invisible to editors."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from accounts import roles
from tests.accounts.conftest import login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

USER_PAGES = ["admin:auth_user_changelist", "admin:auth_user_add", "admin:auth_group_changelist"]


@pytest.mark.parametrize("name", USER_PAGES)
def test_editor_cannot_see_users_or_groups(editor_trondelag, name):
    assert login(editor_trondelag).get(reverse(name)).status_code == 403


def test_editor_cannot_change_a_user_by_url(editor_trondelag, editor_vestland):
    client = login(editor_trondelag)
    response = client.post(reverse("admin:auth_user_change", args=[editor_vestland.pk]), {"username": "taken-over"})
    assert response.status_code == 403
    editor_vestland.refresh_from_db()
    assert editor_vestland.username == "redaktor-vestland"


def test_editor_sees_no_accounts_section_on_the_admin_index(editor_trondelag):
    page = login(editor_trondelag).get(reverse("admin:index")).content.decode()
    assert (
        reverse("admin:auth_user_changelist") not in page and reverse("admin:registry_appointment_changelist") in page
    )


def test_national_admin_lists_users_with_their_office(national_admin, editor_trondelag, reader):
    response = login(national_admin).get(reverse("admin:auth_user_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Redaktører: Statsforvalteren i Trøndelag" in page and roles.NATIONAL_READERS in page


def test_national_admin_moves_an_editor_to_another_office(national_admin, editor_trondelag):
    from accounts.access import municipalities_for
    from accounts.models import OfficeEditors

    vestland = OfficeEditors.objects.get(county_governor__code="vestland").group
    client = login(national_admin)
    url = reverse("admin:auth_user_change", args=[editor_trondelag.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update({"username": editor_trondelag.username, "groups": [vestland.pk], "is_active": "on", "is_staff": "on"})
    data.pop("user_permissions", None)
    data.pop("last_login", None)
    data.pop("date_joined", None)
    data.update({"date_joined_0": "2025-01-01", "date_joined_1": "12:00:00"})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = get_user_model().objects.get(pk=editor_trondelag.pk)
    numbers = set(municipalities_for(user).values_list("number", flat=True))
    assert "4601" in numbers and "5001" not in numbers


def test_national_admin_cannot_make_superusers_or_change_one(national_admin, superuser):
    client = login(national_admin)
    response = client.get(reverse("admin:auth_user_change", args=[national_admin.pk]))
    assert "is_superuser" not in response.context["adminform"].form.fields
    view_only = client.get(reverse("admin:auth_user_change", args=[superuser.pk]))
    assert view_only.status_code == 200 and view_only.context["has_change_permission"] is False
    response = client.post(
        reverse("admin:auth_user_password_change", args=[superuser.pk]), {"password1": "x" * 20, "password2": "x" * 20}
    )
    assert response.status_code == 403


def test_national_admin_sees_but_does_not_change_role_groups(national_admin):
    client = login(national_admin)
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 200
    assert client.get(reverse("admin:auth_group_add")).status_code == 403


def test_reset_password_gives_an_existing_account_a_new_password(editor_trondelag):
    editor_trondelag.set_password("old password that is long")
    editor_trondelag.save()
    out = io.StringIO()
    with translation.override("en"):
        call_command("add_editor", editor_trondelag.username, "trondelag", "--reset-password", stdout=out)
    password = out.getvalue().split("New password: ")[1].split(" ")[0]
    editor_trondelag.refresh_from_db()
    assert editor_trondelag.check_password(password) and not editor_trondelag.check_password(
        "old password that is long"
    )


def test_without_reset_an_existing_password_stays(editor_trondelag):
    user = UserFactory(username="kari")
    call_command("add_editor", "kari", "trondelag", stdout=io.StringIO())
    user.refresh_from_db()
    assert user.check_password("correct horse battery staple")
