import datetime

import pytest

from tests.factories import UserFactory

# Date-dependent tests pin "today" here.
TODAY = datetime.date(2026, 11, 23)


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
