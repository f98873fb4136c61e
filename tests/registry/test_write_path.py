"""The one write path: every change goes through registry.services, which owns what the write derives."""

import ast
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction

from registry import services
from registry.models import Appointment, DataVersion, Municipality, Phone, Physician
from registry.search import query_terms
from tests.factories import AppointmentFactory, PhoneFactory, PhysicianFactory, municipality

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


REGISTRY_MODELS = {model.__name__ for model in services.GUARDED}


def root_name(node):
    """The name an attribute and call chain starts from: `Physician` in Physician.objects.filter(x).update."""
    while isinstance(node, (ast.Attribute, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def counter():
    return DataVersion.objects.get(pk=1).counter


@pytest.mark.parametrize(
    "write",
    [
        lambda: Physician(name="Sidedør").save(),
        lambda: Physician.objects.create(name="Sidedør"),
        lambda: Municipality.objects.get(number="5045").delete(),
        lambda: Municipality.objects.get(number="5042").successors.add(Municipality.objects.get(number="5045")),
        lambda: Phone.objects.filter(physician__isnull=False).delete(),
    ],
    ids=["save", "create", "delete", "successors", "queryset delete"],
)
def test_a_write_outside_the_write_path_is_refused(write):
    PhoneFactory()
    with pytest.raises(RuntimeError, match="outside registry.services"), transaction.atomic():
        write()


def test_no_module_writes_registry_rows_in_bulk_outside_the_write_path():
    """Bulk SQL and queryset updates send no signal the guard could see: none may exist outside services."""
    bulk = {"bulk_create", "bulk_update", "bulk_create_with_history", "bulk_update_with_history"}
    allowed = {
        ROOT / "registry" / "services.py",
        # The data version's own counter, bumped after each write commits (registry.versioning._bump).
        ROOT / "registry" / "versioning.py",
        # The change feed's own rows: written by note_data_changed in the write's transaction, stamped by _bump.
        ROOT / "registry" / "feed.py",
    }
    found = []
    for path in (
        sorted((ROOT / "registry").rglob("*.py"))
        + sorted((ROOT / "imports").rglob("*.py"))
        + sorted((ROOT / "accounts").rglob("*.py"))
    ):
        if "migrations" in path.parts or path in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in bulk:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} .{node.attr}")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "update"
                and root_name(node.func.value) in REGISTRY_MODELS  # Physician.objects.filter(...).update(...)
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} .update()")
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.lstrip().upper()
                if text.startswith(("INSERT INTO", "UPDATE ", "DELETE FROM")):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} SQL")
    assert found == []


def test_a_saved_physician_is_found_by_the_words_of_their_name():
    (physician,) = services.save_entries([Physician(name="Åse Ødegård")], by=services.SYSTEM, reason="test")
    stored = Physician.objects.get(pk=physician.pk).search_text
    assert all(f" {word}" in stored for word in query_terms("ase odegard") + query_terms("aase oedegaard"))


def test_bulk_created_and_renamed_physicians_get_their_search_text_from_the_same_function():
    physicians = services.create_physicians([Physician(name="Kari Bulk")], by=services.SYSTEM, reason="test")
    assert Physician.objects.get(pk=physicians[0].pk).search_text == " kari bulk"
    physician = Physician.objects.get(pk=physicians[0].pk)
    physician.name = "Kari Omdøpt"
    services.change_physicians([physician], ["name"], by=services.SYSTEM, reason="test")
    assert Physician.objects.get(pk=physician.pk).search_text == " kari omdopt omdoept"


def test_every_write_records_who_and_why(national_admin):
    physician = PhysicianFactory()
    physician.email = "ny@example.no"
    services.save_entries([physician], by=national_admin, reason="retting")
    latest = physician.history.latest()
    assert (latest.history_user, latest.history_change_reason) == (national_admin, "retting")
    ended = AppointmentFactory(municipality=municipality("5001"))
    services.end_appointments([ended], on=ended.start_date, by=national_admin, reason="sluttet")
    latest = Appointment.objects.get(pk=ended.pk).history.latest()
    assert (latest.history_user, latest.history_change_reason, latest.end_date) == (
        national_admin,
        "sluttet",
        ended.start_date,
    )


def test_each_write_moves_the_data_version_once_after_it_commits(django_capture_on_commit_callbacks):
    before = counter()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.create_physicians([Physician(name=f"Lege {i}") for i in range(20)], by=services.SYSTEM, reason="test")
    assert len(callbacks) == 1 and counter() == before + 1


def test_a_write_that_fails_writes_nothing_and_moves_nothing(django_capture_on_commit_callbacks, editor_trondelag):
    before = counter()
    mine = Physician(name="Min Lege")
    theirs = Appointment(physician=PhysicianFactory(), municipality=municipality("4601"))
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PermissionDenied):
        services.save_entries([mine, theirs], by=editor_trondelag, reason="test")
    assert not Physician.objects.filter(name="Min Lege").exists() and counter() == before
