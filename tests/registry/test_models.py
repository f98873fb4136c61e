import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from registry.models import Appointment, County, CountyGovernor, Municipality, Phone, Physician, Role
from registry.phones import format_phone, parse_phone
from registry.validators import organisation_number_is_valid
from tests.factories import AppointmentFactory, PhysicianFactory, municipality, write

pytestmark = pytest.mark.django_db


class TestPhoneNumbers:
    @pytest.mark.parametrize(
        "raw",
        ["91844552", "918 44 552", "918-44-552", "+47 918 44 552", "0047 918 44 552", "918\u00a044\u00a0552"],
    )
    def test_norwegian_number_is_stored_as_e164(self, raw):
        assert parse_phone(raw).as_e164 == "+4791844552"

    def test_swedish_mobile_is_accepted(self):
        assert parse_phone("+46 70 174 06 10").as_e164 == "+46701740610"

    @pytest.mark.parametrize("raw", ["123", "abc", "95 11 22 33 kun", "+47 1234", ""])
    def test_invalid_number_is_refused_naming_it(self, raw):
        with pytest.raises(ValidationError) as error:
            parse_phone(raw)
        assert raw in error.value.messages[0]

    def test_norwegian_number_is_shown_in_national_format(self):
        assert format_phone(parse_phone("+4791844552")) == "91 84 45 52"

    def test_foreign_number_is_shown_in_international_format(self):
        assert format_phone(parse_phone("+46701740610")) == "+46 70 174 06 10"

    def test_two_rows_with_the_same_number_get_objects_of_their_own(self):
        physician = PhysicianFactory()
        for kind in ("mobile", "office"):
            write(Phone(physician=physician, number=parse_phone("918 44 552"), kind=kind))
        first, second = Phone.objects.filter(physician=physician)
        assert first.number == second.number and first.number is not second.number
        first.number.national_number = 91844553  # a change to one row's object does not reach the other
        assert second.number.as_e164 == "+4791844552"
        assert format_phone(Phone.objects.filter(physician=physician).first().number) == "91 84 45 52"

    def test_an_invalid_stored_number_is_shown_as_stored(self):
        from phonenumber_field.phonenumber import PhoneNumber

        assert format_phone(PhoneNumber.from_string("+47 1234", region="NO")) == "+47 1234"

    def test_model_refuses_invalid_number(self):
        phone = Phone(number="12", physician=PhysicianFactory())
        with pytest.raises(ValidationError) as error:
            phone.full_clean()
        assert "12" in str(error.value)

    def test_phone_must_have_exactly_one_owner(self):
        physician = PhysicianFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            write(Phone(number=parse_phone("91844552"), physician=physician, appointment=AppointmentFactory()))
        with pytest.raises(IntegrityError), transaction.atomic():
            write(Phone(number=parse_phone("91844552")))


class TestOrganisationNumber:
    def test_all_reference_offices_pass_the_checksum(self):
        numbers = CountyGovernor.objects.values_list("organisation_number", flat=True)
        assert numbers and all(organisation_number_is_valid(n) for n in numbers)

    @pytest.mark.parametrize("value", ["974760666", "97476066", "97476066a", "", "123456789"])
    def test_wrong_check_digit_or_format_is_refused(self, value):
        office = CountyGovernor(code="x", name="X", organisation_number=value)
        with pytest.raises(ValidationError) as error:
            office.full_clean()
        assert "organisation_number" in error.value.message_dict


class TestMunicipality:
    @pytest.mark.parametrize("number", ["301", "03011", "03a1"])
    def test_number_must_have_four_digits(self, number):
        item = Municipality(number=number, name="X", county=County.objects.get(number="03"))
        with pytest.raises(ValidationError) as error:
            item.full_clean()
        assert "number" in error.value.message_dict

    def test_database_refuses_malformed_number(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            write(Municipality(number="301", name="X", county=County.objects.get(number="03")))

    def test_number_is_unique(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            write(Municipality(number="0301", name="X", county=County.objects.get(number="03")))

    def test_database_refuses_ceasing_before_start(self):
        oslo = municipality("0301")
        oslo.valid_to = datetime.date(2023, 1, 1)
        with pytest.raises(IntegrityError), transaction.atomic():
            write(oslo)

    def test_ceased_municipality_is_not_active(self):
        oslo = municipality("0301")
        oslo.valid_to = datetime.date(2026, 1, 1)
        write(oslo)
        assert not oslo.is_active(on=datetime.date(2026, 1, 2))
        assert oslo.is_active(on=datetime.date(2026, 1, 1))
        assert not Municipality.objects.active(on=datetime.date(2026, 1, 2)).filter(number="0301").exists()

    def test_parallel_names_are_a_list(self):
        assert municipality("5612").parallel_name_list == ["Guovdageaidnu"]
        assert municipality("5536").parallel_name_list == ["Ivgu", "Yykeä"]

    def test_office_is_found_through_the_county(self):
        assert municipality("5043").county_governor.code == "trondelag"


class TestPhysician:
    def test_hpr_number_must_be_digits(self):
        physician = Physician(name="X", hpr_number="12a45")
        with pytest.raises(ValidationError) as error:
            physician.full_clean()
        assert "hpr_number" in error.value.message_dict

    def test_many_physicians_may_lack_an_hpr_number(self):
        PhysicianFactory(hpr_number="")
        PhysicianFactory(hpr_number=None)
        assert Physician.objects.filter(hpr_number__isnull=True).count() == 2

    def test_hpr_number_is_unique_when_present(self):
        PhysicianFactory(hpr_number="1234567")
        with pytest.raises(IntegrityError), transaction.atomic():
            PhysicianFactory(hpr_number="1234567")


class TestAppointment:
    def test_end_before_start_is_refused_by_validation(self):
        appointment = AppointmentFactory.build(
            physician=PhysicianFactory(), start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2024, 1, 1)
        )
        with pytest.raises(ValidationError) as error:
            appointment.full_clean()
        assert "end_date" in error.value.message_dict

    def test_end_before_start_is_refused_by_the_database(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            AppointmentFactory(start_date=datetime.date(2025, 1, 1), end_date=datetime.date(2024, 1, 1))

    def test_one_physician_may_serve_several_municipalities(self, today):
        physician = PhysicianFactory()
        for number in ["5045", "5042", "5044", "5043"]:
            AppointmentFactory(physician=physician, municipality=municipality(number))
        assert physician.appointments.current().count() == 4

    def test_current_and_on(self, today):
        ended = AppointmentFactory(end_date=datetime.date(2025, 6, 30))
        running = AppointmentFactory(municipality=municipality("5045"))
        future = AppointmentFactory(municipality=municipality("5042"), start_date=datetime.date(2027, 1, 1))
        assert list(Appointment.objects.current()) == [running]
        assert ended.is_current(on=datetime.date(2025, 6, 30))
        assert not ended.is_current(on=datetime.date(2025, 7, 1))
        assert not future.is_current()

    def test_published_leaves_out_ceased_municipalities(self, today):
        appointment = AppointmentFactory(municipality=municipality("0301"))
        assert list(Appointment.objects.published()) == [appointment]
        oslo = appointment.municipality
        oslo.valid_to = datetime.date(2025, 12, 31)
        write(oslo)
        assert not Appointment.objects.published().exists()

    def test_same_physician_municipality_role_and_start_is_one_appointment(self):
        first = AppointmentFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            AppointmentFactory(physician=first.physician, municipality=first.municipality, role=Role.CHIEF_PHYSICIAN)
