"""Reference data: Norway's offices, counties and municipalities from SSB's classifications.

The CSV files in `registry/data/` are copied from the project's verified reference set; SOURCES.md
beside them credits Statistisk sentralbyrå (SSB, NLOD) and Kartverket (CC BY 4.0).
Functions here take the model classes as arguments so that a data migration can pass its
historical models (`apps.get_model`) and the sync command the real ones.
"""

import csv
import datetime
import re
from pathlib import Path

from registry.search import municipality_search_text, search_text

DATA_DIR = Path(__file__).resolve().parent / "data"
# The date the current set of 357 municipality numbers took effect (the 2024 county reform).
CURRENT_SET_VALID_FROM = datetime.date(2024, 1, 1)

# SSB adds the county in brackets to the two names shared by two municipalities ("Herøy (Nordland)").
_COUNTY_SUFFIX = re.compile(r"\s*\([^)]*\)\s*$")


def read_csv(path):
    """Return the rows of a UTF-8 CSV file (BOM tolerated) as dicts with stripped values."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [{key.strip(): (value or "").strip() for key, value in row.items()} for row in csv.DictReader(handle)]


def official_name(ssb_name):
    """Return the official name: SSB's disambiguating "(county)" suffix removed."""
    return _COUNTY_SUFFIX.sub("", ssb_name)


def parallel_names(alternative_names):
    """Return SSB's " | "-separated parallel names in the registry's "|" form."""
    return "|".join(part.strip() for part in alternative_names.split("|") if part.strip())


def municipality_fields(row):
    """Return the Municipality field values described by one row of an SSB municipality list."""
    return {
        "name": official_name(row["navn"]),
        "parallel_names": parallel_names(row.get("alternative_navn", "")),
    }


def load_reference_data(CountyGovernor, County, Municipality, data_dir=DATA_DIR):
    """Create or update all offices, counties and municipalities; return how many of each exist.

    Idempotent: matches on natural keys (office code, county number, municipality number).
    """
    county_office = {}
    for row in read_csv(data_dir / "statsforvaltere.csv"):
        office, _ = CountyGovernor.objects.update_or_create(
            code=row["kode"], defaults={"name": row["navn"], "organisation_number": row["organisasjonsnummer"]}
        )
        for number in row["fylker"].split():
            county_office[number] = office
    counties = {}
    for row in read_csv(data_dir / "fylker.csv"):
        counties[row["fylkesnummer"]], _ = County.objects.update_or_create(
            number=row["fylkesnummer"],
            defaults={"name": row["fylkesnavn"], "county_governor": county_office[row["fylkesnummer"]]},
        )
    for row in read_csv(data_dir / "kommuner.csv"):
        Municipality.objects.update_or_create(
            number=row["kommunenummer"],
            defaults={
                **municipality_fields(row),
                "county": counties[row["fylkesnummer"]],
                "valid_from": CURRENT_SET_VALID_FROM,
            },
        )
    return {
        "county_governors": CountyGovernor.objects.count(),
        "counties": County.objects.count(),
        "municipalities": Municipality.objects.count(),
    }


def load_former_numbers(FormerNumber, Municipality, County, data_dir=DATA_DIR):
    """Record the 2020–2023 numbers that the 2024 reform changed; return how many rows describe them.

    A number that went to one municipality (3005 → 3301 Drammen) becomes a FormerNumber of it: the same
    municipality, renumbered. A number that went to several (1507 Ålesund → 1508 Ålesund and 1580 Haram)
    was a split: the old municipality is kept as a ceased one, with its successors. Idempotent.
    """
    by_number = {m.number: m for m in Municipality.objects.all()}
    counties = {c.number: c for c in County.objects.all()}
    count = 0
    for row in read_csv(data_dir / "kommuner-2020-2023.csv"):
        number, successors = row["kommunenummer"], row["etterfolger"].split()
        if successors == [number]:
            continue
        valid_to = datetime.date.fromisoformat(row["gyldig_til"])
        targets = [by_number[successor] for successor in successors]
        if len(targets) == 1:
            FormerNumber.objects.get_or_create(number=number, municipality=targets[0], defaults={"valid_to": valid_to})
        else:
            ceased, _ = Municipality.objects.update_or_create(
                number=number,
                defaults={
                    "name": official_name(row["navn"]),
                    # Historical models (a data migration) have no save() of their own to derive it.
                    "search_text": municipality_search_text(
                        number=number, name=official_name(row["navn"]), parallel_names=""
                    ),
                    "county": counties.get(number[:2], targets[0].county),
                    "valid_from": datetime.date.fromisoformat(row["gyldig_fra"]),
                    "valid_to": valid_to,
                },
            )
            ceased.successors.add(*targets)
        count += 1
    return count


# Oslo's districts run health services of their own (each has a bydelsoverlege); SSB marks Sentrum and
# Marka as statistical units, and the districts of the other cities are statistical too.
HEALTH_SERVICE_MUNICIPALITIES = {"0301"}


def load_districts(District, Municipality, data_dir=DATA_DIR):
    """Create or update the districts SSB lists (registry/data/bydeler.csv); return how many there are. Idempotent."""
    municipalities = {m.number: m for m in Municipality.objects.filter(number__in=["0301", "1103", "4601", "5001"])}
    for row in read_csv(data_dir / "bydeler.csv"):
        name = row["navn"]
        District.objects.update_or_create(
            number=row["bydelsnummer"],
            defaults={
                "name": name,
                "municipality": municipalities[row["kommunenummer"]],
                "runs_health_services": row["kommunenummer"] in HEALTH_SERVICE_MUNICIPALITIES and not row["merknad"],
                # Historical models (a data migration) have no derive() of their own.
                "search_text": search_text(name, row["bydelsnummer"]),
            },
        )
    return District.objects.count()
