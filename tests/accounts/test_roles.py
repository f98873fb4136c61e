import io

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import translation
from guardian.shortcuts import assign_perm

from accounts import roles
from accounts.access import is_national_admin, municipalities_for, sees_restricted_numbers
from accounts.models import CountyGovernorGroupObjectPermission, OfficeEditors
from accounts.services import add_editor, ensure_roles
from registry import services
from registry.models import County, CountyGovernor, Municipality
from tests.factories import municipality

pytestmark = pytest.mark.django_db


def grants():
    return sorted(CountyGovernorGroupObjectPermission.objects.values_list("content_object__code", "group__name"))


def test_every_office_has_an_editors_group_holding_its_own_office():
    assert OfficeEditors.objects.count() == 10
    assert grants() == sorted(
        (office.county_governor.code, office.group.name)
        for office in OfficeEditors.objects.select_related("group", "county_governor")
    )
    assert (
        CountyGovernorGroupObjectPermission.objects.filter(permission__codename=roles.OFFICE_PERMISSION).count() == 10
    )


def test_ensure_roles_is_idempotent():
    before = grants()
    ensure_roles()
    ensure_roles()
    assert grants() == before and Group.objects.count() == 12


def test_editor_edits_only_their_own_region(editor_trondelag, editor_vestland):
    trondelag = set(municipalities_for(editor_trondelag).values_list("number", flat=True))
    vestland = set(municipalities_for(editor_vestland).values_list("number", flat=True))
    assert len(trondelag) == 38 and all(number.startswith("50") for number in trondelag)
    assert len(vestland) == 43 and all(number.startswith("46") for number in vestland)


def test_reader_and_anonymous_edit_nothing(reader, anonymous):
    assert not municipalities_for(reader).exists()
    assert not municipalities_for(anonymous).exists()


def test_national_admin_and_superuser_edit_everything(national_admin, superuser):
    assert municipalities_for(national_admin).count() == Municipality.objects.count()
    assert municipalities_for(superuser).count() == Municipality.objects.count()
    assert is_national_admin(national_admin) and is_national_admin(superuser)


def test_who_sees_restricted_numbers(editor_trondelag, reader, national_admin, anonymous):
    assert sees_restricted_numbers(editor_trondelag)
    assert sees_restricted_numbers(reader)
    assert sees_restricted_numbers(national_admin)
    assert not sees_restricted_numbers(anonymous)


def test_moving_a_municipality_to_another_county_moves_the_edit_right_at_once(editor_trondelag, national_admin):
    editor_nordland = add_editor(username="redaktor-nordland", office_code="nordland")[0]
    grong = municipality("5045")
    grong.county = County.objects.get(number="18")
    services.save_entries([grong], by=national_admin, reason="test")
    assert not municipalities_for(forget(editor_trondelag)).filter(number="5045").exists()
    assert municipalities_for(forget(editor_nordland)).filter(number="5045").exists()


def forget(user):
    """The same user as a new request would see them (nothing remembered on the object)."""
    return type(user).objects.get(pk=user.pk)


def test_moving_a_county_to_another_office_moves_the_edit_rights_in_the_same_transaction(
    editor_trondelag, national_admin
):
    editor_nordland = add_editor(username="redaktor-nordland", office_code="nordland")[0]
    trondelag = County.objects.get(number="50")
    trondelag.county_governor = CountyGovernor.objects.get(code="nordland")
    with transaction.atomic():
        services.save_entries([trondelag], by=national_admin, reason="test")
        # No grant to re-sync: inside the very transaction that moved it, the rights have moved.
        assert not municipalities_for(forget(editor_trondelag)).exists()
        assert municipalities_for(forget(editor_nordland)).filter(number="5045").exists()
    assert municipalities_for(forget(editor_nordland)).count() == 38 + 41


def test_an_editor_cannot_move_a_county(editor_trondelag):
    trondelag = County.objects.get(number="50")
    trondelag.county_governor = CountyGovernor.objects.get(code="vestland")
    with pytest.raises(PermissionDenied):
        services.save_entries([trondelag], by=editor_trondelag, reason="test")
    assert County.objects.get(number="50").county_governor.code == "trondelag"


def test_a_new_municipality_belongs_to_its_office(editor_trondelag):
    services.save_entries(
        [Municipality(number="5099", name="Ny kommune", county=County.objects.get(number="50"))],
        by=services.SYSTEM,
        reason="test",
    )
    assert municipalities_for(editor_trondelag).filter(number="5099").exists()


def test_a_single_user_can_be_given_an_office_region_directly(django_user_model):
    user = django_user_model.objects.create_user("vikar", is_staff=True)
    assign_perm(f"registry.{roles.OFFICE_PERMISSION}", user, CountyGovernor.objects.get(code="vestland"))
    assert municipalities_for(user).count() == 43


def run(command, *args):
    out = io.StringIO()
    with translation.override("en"):
        call_command(command, *args, stdout=out)
    return out.getvalue()


def test_add_editor_command_creates_and_updates(django_user_model):
    output = run("add_editor", "kari", "trondelag", "--email", "kari@example.no")
    user = django_user_model.objects.get(username="kari")
    assert user.is_staff and user.email == "kari@example.no" and "Initial password" in output
    assert user.groups.filter(name=roles.EDITORS_PREFIX + "Statsforvalteren i Trøndelag").exists()
    again = run("add_editor", "kari", "trondelag")
    assert "Initial password" not in again and django_user_model.objects.filter(username="kari").count() == 1


def test_add_editor_refuses_an_unknown_office_naming_the_valid_codes(django_user_model):
    with pytest.raises(CommandError) as error, translation.override("en"):
        call_command("add_editor", "kari", "trøndelag")
    assert "trondelag" in str(error.value) and "vestland" in str(error.value)
    assert not django_user_model.objects.filter(username="kari").exists()


def test_add_reader_command(django_user_model):
    run("add_reader", "fhi", "--email", "fhi@example.no")
    user = django_user_model.objects.get(username="fhi")
    assert not user.is_staff and sees_restricted_numbers(user)
    assert not municipalities_for(user).exists()
