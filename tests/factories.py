"""Factories for the registry's models. Municipalities come from the reference data the migrations load."""

import datetime

import factory
from django.contrib.auth import get_user_model

from registry.models import Appointment, Municipality, Phone, PhoneKind, Physician, Role, Visibility
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


class PhysicianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Physician

    name = factory.Sequence(lambda n: f"Test Lege {n}")
    email = factory.Sequence(lambda n: f"lege{n}@example.no")
    hpr_number = factory.Sequence(lambda n: f"{1000000 + n}")


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    physician = factory.SubFactory(PhysicianFactory)
    municipality = factory.LazyFunction(lambda: municipality("5001"))
    role = Role.CHIEF_PHYSICIAN
    start_date = datetime.date(2024, 1, 1)


class PhoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Phone

    number = factory.Sequence(lambda n: parse_phone(f"4{n:07d}"))
    kind = PhoneKind.MOBILE
    visibility = Visibility.PUBLIC
    physician = factory.SubFactory(PhysicianFactory)


def clear_caches():
    """Empty every cache (pages and results, and the list's rows)."""
    from django.conf import settings
    from django.core.cache import caches

    for alias in settings.CACHES:
        caches[alias].clear()
