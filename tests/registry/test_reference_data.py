import pytest

from registry.models import County, CountyGovernor, Municipality
from registry.reference import load_reference_data

pytestmark = pytest.mark.django_db


def test_migrations_load_the_whole_country():
    assert Municipality.objects.count() == 357
    assert County.objects.count() == 15
    assert CountyGovernor.objects.count() == 10


def test_every_municipality_is_under_exactly_one_office():
    offices = Municipality.objects.values_list("number", "county__county_governor__code")
    assert len(offices) == 357 and all(code for _, code in offices)


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
    counts = load_reference_data(CountyGovernor, County, Municipality)
    after = list(Municipality.objects.order_by("number").values("number", "name", "parallel_names", "county_id"))
    assert counts == {"county_governors": 10, "counties": 15, "municipalities": 357}
    assert before == after
