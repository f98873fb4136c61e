import datetime

import pytest
from django.db.backends.base.creation import BaseDatabaseCreation

from tests.factories import UserFactory

# Date-dependent tests pin "today" here.
TODAY = datetime.date(2026, 11, 23)


def days_before_today(days):
    """Noon in Oslo `days` days before TODAY: a moment for tests that pin "today" (the wall clock moves on)."""
    from zoneinfo import ZoneInfo

    noon = datetime.datetime.combine(TODAY, datetime.time(12), tzinfo=ZoneInfo("Europe/Oslo"))
    return noon - datetime.timedelta(days=days)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache and no remembered data version: nothing leaks between tests."""
    from registry.versioning import forget_data_state
    from tests.factories import clear_caches

    clear_caches()
    forget_data_state()


@pytest.fixture
def superuser(db):
    """A national superuser: sees and changes everything."""
    return UserFactory(username="superuser", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def today(monkeypatch):
    """Pin timezone.localdate() to TODAY."""
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


# People. Each fixture says what the person may see and do.


@pytest.fixture
def editor_trondelag(db):
    """Edits the municipalities of Trøndelag (office `trondelag`), and nothing else."""
    from accounts.services import add_editor

    return add_editor(username="redaktor-trondelag", office_code="trondelag")[0]


@pytest.fixture
def editor_vestland(db):
    """Edits the municipalities of Vestland (office `vestland`), and nothing else."""
    from accounts.services import add_editor

    return add_editor(username="redaktor-vestland", office_code="vestland")[0]


@pytest.fixture
def reader(db):
    """A national reader (FHI): sees numbers for authorities only in the national list; edits nothing."""
    from accounts.services import add_reader

    return add_reader(username="leser-fhi")[0]


@pytest.fixture
def national_admin(db):
    """A national administrator (Helsedirektoratet): every region, manages users."""
    from accounts.services import add_national_admin

    return add_national_admin(username="admin-hdir")[0]


@pytest.fixture
def anonymous():
    """A visitor who is not logged in: sees the public list only, never a restricted number."""
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()


def _deserialize_in_write_path(deserialize):
    """Wrap the test database's serialized rollback, which puts back the migrated reference data.

    It is a restore in effect (loaddata's raw saves, then the municipalities' successor links), so it runs
    inside the registry's write path like `manage.py restore` does.
    """

    def deserialize_db_from_string(self, data):
        from registry.services import write_path

        with write_path():
            return deserialize(self, data)

    return deserialize_db_from_string


BaseDatabaseCreation.deserialize_db_from_string = _deserialize_in_write_path(
    BaseDatabaseCreation.deserialize_db_from_string
)
