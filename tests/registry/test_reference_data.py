import datetime

import pytest

from registry.models import County, CountyGovernor, FormerNumber, Municipality
from registry.reference import load_former_numbers, load_reference_data
from registry.services import write_path

pytestmark = pytest.mark.django_db


def test_migrations_load_the_whole_country():
    assert Municipality.objects.active().count() == 357
    assert County.objects.count() == 15
    assert CountyGovernor.objects.count() == 10


def test_every_municipality_is_under_exactly_one_office():
    offices = Municipality.objects.values_list("number", "county__county_governor__code")
    assert len(offices) == 357 + 1 and all(code for _, code in offices)  # and 1507, ceased


def test_municipalities_per_county_match_ssb():
    counts = {c.number: c.municipalities.count() for c in County.objects.all()}
    assert counts["03"] == 1 and counts["34"] == 46 and counts["50"] == 38 and counts["46"] == 43


def test_official_name_is_stored_without_ssbs_county_suffix():
    names = dict(Municipality.objects.filter(number__in=["1515", "1818", "3114", "3419"]).values_list("number", "name"))
    assert names == {"1515": "Herøy", "1818": "Herøy", "3114": "Våler", "3419": "Våler"}


def test_parallel_names_are_kept():
    assert Municipality.objects.get(number="5043").parallel_name_list == ["Raarvihke"]
    assert Municipality.objects.get(number="0301").parallel_name_list == ["Oslove"]


def test_loading_again_changes_nothing():
    before = list(Municipality.objects.order_by("number").values("number", "name", "parallel_names", "county_id"))
    with write_path():  # what the data migration does, with the real models
        counts = load_reference_data(CountyGovernor, County, Municipality)
    after = list(Municipality.objects.order_by("number").values("number", "name", "parallel_names", "county_id"))
    assert counts == {"county_governors": 10, "counties": 15, "municipalities": Municipality.objects.count()}
    assert before == after


def test_the_numbers_the_2024_reform_changed_are_kept():
    # 113 municipalities were renumbered (the same municipality), and 1507 Ålesund was split.
    assert FormerNumber.objects.count() == 113
    assert FormerNumber.objects.get(number="3005").municipality.number == "3301"
    alesund = Municipality.objects.get(number="1507")
    assert alesund.valid_to == datetime.date(2023, 12, 31) and not alesund.is_active()
    assert set(alesund.successors.values_list("number", flat=True)) == {"1508", "1580"}
    assert " alesund" in alesund.search_text


def test_loading_the_former_numbers_again_changes_nothing():
    before = sorted(FormerNumber.objects.values_list("number", "municipality__number"))
    with write_path():
        load_former_numbers(FormerNumber, Municipality, County)
    assert sorted(FormerNumber.objects.values_list("number", "municipality__number")) == before
