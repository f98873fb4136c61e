import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.utils import translation

from accounts import roles
from accounts.access import is_national_admin, municipalities_for, sees_restricted_numbers
from accounts.models import MunicipalityGroupObjectPermission, OfficeEditors
from accounts.services import ensure_roles, sync_office_permissions
from registry.models import County, Municipality
from tests.factories import municipality

pytestmark = pytest.mark.django_db


def test_every_office_has_an_editors_group_holding_its_municipalities():
    assert OfficeEditors.objects.count() == 10
    assert MunicipalityGroupObjectPermission.objects.count() == 357
    trondelag = OfficeEditors.objects.get(county_governor__code="trondelag").group
    assert MunicipalityGroupObjectPermission.objects.filter(group=trondelag).count() == 38


def test_ensure_roles_is_idempotent():
    before = sorted(MunicipalityGroupObjectPermission.objects.values_list("content_object_id", "group_id"))
    ensure_roles()
    ensure_roles()
    after = sorted(MunicipalityGroupObjectPermission.objects.values_list("content_object_id", "group_id"))
    assert before == after and Group.objects.count() == 12


def test_editor_edits_only_their_own_region(editor_trondelag, editor_vestland):
    trondelag = set(municipalities_for(editor_trondelag).values_list("number", flat=True))
    vestland = set(municipalities_for(editor_vestland).values_list("number", flat=True))
    assert len(trondelag) == 38 and all(number.startswith("50") for number in trondelag)
    assert len(vestland) == 43 and all(number.startswith("46") for number in vestland)


def test_reader_and_anonymous_edit_nothing(reader, anonymous):
    assert not municipalities_for(reader).exists()
    assert not municipalities_for(anonymous).exists()


def test_national_admin_and_superuser_edit_everything(national_admin, superuser):
    assert municipalities_for(national_admin).count() == 357
    assert municipalities_for(superuser).count() == 357
    assert is_national_admin(national_admin) and is_national_admin(superuser)


def test_who_sees_restricted_numbers(editor_trondelag, reader, national_admin, anonymous):
    assert sees_restricted_numbers(editor_trondelag)
    assert sees_restricted_numbers(reader)
    assert sees_restricted_numbers(national_admin)
    assert not sees_restricted_numbers(anonymous)


def test_moving_a_municipality_moves_its_office_permission(editor_trondelag):
    grong = municipality("5045")
    grong.county = County.objects.get(number="18")
    grong.save()
    assert not municipalities_for(editor_trondelag).filter(number="5045").exists()
    nordland = OfficeEditors.objects.get(county_governor__code="nordland").group
    assert MunicipalityGroupObjectPermission.objects.filter(group=nordland, content_object=grong).exists()


def test_a_new_municipality_belongs_to_its_office(editor_trondelag):
    Municipality.objects.create(number="5099", name="Ny kommune", county=County.objects.get(number="50"))
    assert municipalities_for(editor_trondelag).filter(number="5099").exists()


def test_sync_removes_a_grant_to_the_wrong_office():
    grong = municipality("5045")
    wrong = OfficeEditors.objects.get(county_governor__code="vestland").group
    MunicipalityGroupObjectPermission.objects.create(
        content_object=grong, group=wrong, permission=MunicipalityGroupObjectPermission.objects.first().permission
    )
    sync_office_permissions()
    assert not MunicipalityGroupObjectPermission.objects.filter(content_object=grong, group=wrong).exists()


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
