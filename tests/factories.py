"""Factories for the registry's models. Municipalities come from the reference data the migrations load."""

import datetime

import factory
from django.contrib.auth import get_user_model

from registry.models import (
    Appointment,
    ContactKind,
    FunctionContact,
    Municipality,
    Phone,
    PhoneKind,
    Physician,
    Role,
    Visibility,
)
from registry.phones import parse_phone


def municipality(number):
    """Return the reference municipality with this number (loaded by the data migration)."""
    return Municipality.objects.get(number=number)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.no")
    password = factory.django.Password("correct horse battery staple")


class RegistryFactory(factory.django.DjangoModelFactory):
    """Saves through registry.services, the one write path (as the registry itself: `SYSTEM`)."""

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from registry import services

        obj = model_class(*args, **kwargs)
        services.save_entries([obj], by=services.SYSTEM, reason="test")
        return obj


class PhysicianFactory(RegistryFactory):
    class Meta:
        model = Physician

    name = factory.Sequence(lambda n: f"Test Lege {n}")
    email = factory.Sequence(lambda n: f"lege{n}@example.no")
    hpr_number = factory.Sequence(lambda n: f"{1000000 + n}")


class AppointmentFactory(RegistryFactory):
    class Meta:
        model = Appointment

    physician = factory.SubFactory(PhysicianFactory)
    municipality = factory.LazyFunction(lambda: municipality("5001"))
    role = Role.CHIEF_PHYSICIAN
    start_date = datetime.date(2024, 1, 1)


class PhoneFactory(RegistryFactory):
    class Meta:
        model = Phone

    number = factory.Sequence(lambda n: parse_phone(f"4{n:07d}"))
    kind = PhoneKind.MOBILE
    visibility = Visibility.PUBLIC
    physician = factory.SubFactory(PhysicianFactory)


class FunctionContactFactory(RegistryFactory):
    """A municipality's 24/7 number (give kind, email or number for others)."""

    class Meta:
        model = FunctionContact

    kind = ContactKind.EMERGENCY
    number = factory.Sequence(lambda n: parse_phone(f"7{n:07d}"))
    visibility = Visibility.PUBLIC
    municipality = factory.LazyFunction(lambda: municipality("5001"))


def clear_caches():
    """Empty every cache (pages and results, and the list's rows)."""
    from django.conf import settings
    from django.core.cache import caches

    for alias in settings.CACHES:
        caches[alias].clear()


def write(*objects, **options):
    """Save registry rows as the tests' author, through the one write path (registry.services)."""
    from registry import services

    return services.save_entries(objects, by=services.SYSTEM, reason="test", **options)


def remove(*objects):
    """Delete registry rows through the one write path."""
    from registry import services

    return services.delete_entries(objects, by=services.SYSTEM, reason="test")


def succeed(predecessor, *successors):
    """Record that `successors` took over after `predecessor` (a reform), through the write path."""
    from registry import services

    services.set_successors(
        predecessor, [*predecessor.successors.all(), *successors], by=services.SYSTEM, reason="test"
    )
