"""How fast the national list answers a search over 100,000 appointments on PostgreSQL.

    make bench-search        (DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/registry_bench_search)

Creates the database if it is missing, loads 100,000 appointments once (30,000 physicians with
Norwegian names, three current appointments per municipality, the rest history) and the organisation
models (60 intermunicipal arrangements with their members and people, the districts' chief physicians,
a role mailbox and a 24/7 number per municipality), then times 200
varied searches — physician names, municipality names typed without Norwegian letters, Sami names,
numbers, counties, districts, arrangements and typos — through the same code path as the page: the search alone
(MunicipalityFilter.results) and the whole /resultater/ response the page fetches as one types,
as served (the rows of the list cached, as they are once the landing page has been shown) and with
nothing cached at all. Target: p95 under 50 ms for the search and for the response as served.
"""

import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/registry_bench_search"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

APPOINTMENTS = 100_000
PHYSICIANS = 30_000
SEARCHES = 200
WARM_UP = 20
TARGET_MS = 50.0
SEED = 5


def ensure_database(url):
    """Create the benchmark database when it does not exist yet."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(url)
    if "postgresql" not in config["ENGINE"]:
        sys.exit(f"The search benchmark needs PostgreSQL; DATABASE_URL is {url}")
    connect = {
        "host": config["HOST"] or "127.0.0.1",
        "port": config["PORT"] or 5432,
        "user": config["USER"] or "postgres",
        "password": config["PASSWORD"] or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **connect) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{config["NAME"]}"')
            print(f"Created database {config['NAME']}")


def load(rng):
    """Load the appointments once; a second run reuses them."""
    from faker import Faker

    from registry.models import Appointment, Municipality, Phone, Physician, Role
    from registry.phones import parse_phone
    from registry.search import physician_search_text

    if Appointment.objects.count() >= APPOINTMENTS:
        print(f"Reusing {Appointment.objects.count():,} appointments")
        return
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if Physician.objects.exists() and "bench" not in name:
        sys.exit(f"Refusing to replace the physicians in {name}: point DATABASE_URL at a database named *bench*.")
    started = time.perf_counter()
    Phone.objects.all().delete()
    Appointment.objects.all().delete()
    Physician.objects.all().delete()
    fake = Faker("no_NO")
    fake.seed_instance(SEED)
    names = [fake.name() for _ in range(PHYSICIANS)]
    physicians = Physician.objects.bulk_create(
        (Physician(name=name, search_text=physician_search_text(name=name)) for name in names), batch_size=5000
    )
    Phone.objects.bulk_create(
        (Phone(physician=p, number=parse_phone(f"4{index:07d}")) for index, p in enumerate(physicians)),
        batch_size=5000,
    )
    municipalities = list(Municipality.objects.active())
    roles = [Role.CHIEF_PHYSICIAN, Role.DEPUTY, Role.INFECTION_CONTROL_PHYSICIAN]
    today = datetime.date.today()
    current = [
        Appointment(
            physician=rng.choice(physicians),
            municipality=municipality,
            role=role,
            start_date=datetime.date(2024, 1, 1),
        )
        for municipality in municipalities
        for role in roles
    ]
    history = []
    for index in range(APPOINTMENTS - len(current)):
        start = datetime.date(1990, 1, 1) + datetime.timedelta(days=index // 10)
        end = min(start + datetime.timedelta(days=rng.randint(90, 2000)), today - datetime.timedelta(days=400))
        history.append(
            Appointment(
                physician=rng.choice(physicians),
                municipality=municipalities[index % len(municipalities)],
                role=rng.choice(roles),
                start_date=min(start, end),
                end_date=end,
            )
        )
    Appointment.objects.bulk_create(current + history, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"Loaded {PHYSICIANS:,} physicians and {Appointment.objects.count():,} appointments "
        f"({len(current):,} current) in {time.perf_counter() - started:.1f} s"
    )


ARRANGEMENTS = 60  # 40 that hold every role for 2–5 members, 20 that share only the infection control physician


def load_organisation(rng):
    """Arrangements with members and people, the districts' chief physicians, and function contacts: the
    shapes the list shows besides a municipality's own appointments (issue 11's budget holds with them)."""
    from django.db import connection

    from registry.models import (
        Appointment,
        Arrangement,
        ArrangementKind,
        ContactKind,
        District,
        FunctionContact,
        Membership,
        Municipality,
        Physician,
        Role,
        Visibility,
    )
    from registry.phones import parse_phone

    if Arrangement.objects.exists():
        print(f"Reusing {Arrangement.objects.count()} arrangements and {Membership.objects.count()} memberships")
        return
    started = time.perf_counter()
    physicians = list(Physician.objects.values_list("pk", flat=True)[:5000])
    since = datetime.date(2024, 1, 1)
    by_county = {}
    for municipality in Municipality.objects.active().order_by("number"):
        by_county.setdefault(municipality.county_id, []).append(municipality)
    groups = []
    counties = list(by_county.values())
    for index in range(ARRANGEMENTS):
        county = counties[index % len(counties)]
        size = rng.randint(2, 5)
        first = rng.randrange(0, max(1, len(county) - size))
        groups.append(county[first : first + size])
    arrangements = []
    for index, members in enumerate(groups):
        kind = [ArrangementKind.TASK_COMMUNITY, ArrangementKind.HOST_MUNICIPALITY, ArrangementKind.INTERMUNICIPAL]
        arrangement = Arrangement(
            name=f"{members[0].name} og omegn legetjeneste {index + 1}",
            kind=kind[index % 3],
            host=members[0],
            roles="" if index < 40 else Role.INFECTION_CONTROL_PHYSICIAN,
        )
        arrangement.derive()
        arrangements.append(arrangement)
    Arrangement.objects.bulk_create(arrangements)
    Membership.objects.bulk_create(
        Membership(arrangement=arrangement, municipality=municipality, valid_from=since)
        for arrangement, members in zip(arrangements, groups, strict=True)
        for municipality in members
    )
    appointments = []
    for arrangement in arrangements:
        for role in arrangement.role_list[:2]:
            appointments.append(
                Appointment(physician_id=rng.choice(physicians), arrangement=arrangement, role=role, start_date=since)
            )
    for district in District.objects.filter(runs_health_services=True):
        appointments.append(
            Appointment(
                physician_id=rng.choice(physicians),
                municipality_id=district.municipality_id,
                district=district,
                role=Role.CHIEF_PHYSICIAN,
                start_date=since,
            )
        )
    Appointment.objects.bulk_create(appointments)
    contacts = []
    for index, municipality in enumerate(Municipality.objects.active()):
        contacts.append(
            FunctionContact(
                municipality=municipality, kind=ContactKind.ROLE_MAILBOX, email=f"kommuneoverlege@k{index}.example.no"
            )
        )
        contacts.append(
            FunctionContact(
                municipality=municipality,
                kind=ContactKind.EMERGENCY,
                number=parse_phone(f"9{index:07d}"),
                visibility=Visibility.AUTHORITIES,
            )
        )
    for index, arrangement in enumerate(arrangements):
        contacts.append(
            FunctionContact(arrangement=arrangement, kind=ContactKind.SWITCHBOARD, number=parse_phone(f"7{index:07d}"))
        )
    FunctionContact.objects.bulk_create(contacts)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"Loaded {len(arrangements)} arrangements ({Membership.objects.count()} memberships), "
        f"{len(appointments)} appointments to arrangements and districts and {len(contacts)} function contacts "
        f"in {time.perf_counter() - started:.1f} s"
    )


def typo(word, rng):
    """The word with one letter dropped or two neighbours swapped."""
    if len(word) < 5:
        return word
    index = rng.randrange(1, len(word) - 2)
    if rng.random() < 0.5:
        return word[:index] + word[index + 1 :]
    return word[:index] + word[index + 1] + word[index] + word[index + 2 :]


def queries(rng):
    from registry.models import Appointment, Arrangement, County, District, Municipality
    from registry.search import fold

    municipalities = list(Municipality.objects.active())
    current_names = list(Appointment.objects.current().values_list("physician__name", flat=True))
    counties = list(County.objects.values_list("name", flat=True))
    districts = list(District.objects.values_list("name", flat=True))
    arrangements = list(Arrangement.objects.values_list("name", flat=True))
    makers = [
        lambda: rng.choice(current_names),  # a full name
        lambda: rng.choice(current_names).split()[-1],  # a surname
        lambda: rng.choice(current_names).split()[0],  # a first name
        lambda: rng.choice(municipalities).name,  # as written, with æøå
        lambda: fold(rng.choice(municipalities).name),  # typed without Norwegian letters
        lambda: rng.choice([m for m in municipalities if m.parallel_names]).parallel_name_list[0],  # Sami or Kven
        lambda: rng.choice(municipalities).number,
        lambda: typo(fold(rng.choice(municipalities).name), rng),  # a small typo
        lambda: typo(rng.choice(current_names).split()[-1].lower(), rng),  # a typo in a surname
        lambda: rng.choice(counties).split(" - ")[0],
        lambda: fold(rng.choice(districts)),  # a district (bydel), typed without æøå
        lambda: " ".join(rng.choice(arrangements).split()[:2]),  # an arrangement by the start of its name
    ]
    # Each search different, so that no answer comes whole from a cache: only the rows of the list can.
    typed, seen, index = [], set(), 0
    while len(typed) < SEARCHES + WARM_UP:
        query = makers[index % len(makers)]()
        index += 1
        if query.casefold() not in seen:
            seen.add(query.casefold())
            typed.append(query)
    return typed


def percentiles(samples):
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * len(ordered))) - 1)]
    return statistics.median(ordered), p95, ordered[-1]


def main():
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.http import QueryDict
    from django.test import Client

    from registry.filters import MunicipalityFilter

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    load(rng)
    load_organisation(rng)
    typed = queries(rng)
    # The production start-up (config/wsgi.py, as gunicorn loads it): among other things it freezes the
    # objects loaded at start, so that full garbage collections stay short.
    from django.conf import settings
    from django.core.cache import caches

    import config.wsgi  # noqa: F401
    from registry.versioning import forget_data_state

    def forget_everything():
        for alias in settings.CACHES:
            caches[alias].clear()
        forget_data_state()

    def timed(function):
        started = time.perf_counter()
        result = function()
        return result, (time.perf_counter() - started) * 1000

    client = Client(headers={"Accept-Language": "nb"})
    search_ms, cold_ms, served_ms, found = [], [], [], []
    # 1. Nothing cached: the search alone, then the whole response with every row built and rendered.
    for index, query in enumerate(typed):
        data = QueryDict(mutable=True)
        data["q"] = query
        forget_everything()
        rows, search_time = timed(lambda data=data: MunicipalityFilter(data).results())
        forget_everything()
        response, response_time = timed(lambda query=query: client.get("/resultater/", {"q": query}))
        assert response.status_code == 200, (query, response.status_code)
        if index >= WARM_UP:
            search_ms.append(search_time)
            cold_ms.append(response_time)
            found.append(len(rows))
    # 2. As served: the landing page has rendered every municipality's row once (registry.views.rendered_rows);
    # each search is new, so its own queries run and its results are put together from the cached rows.
    forget_everything()
    assert client.get("/").status_code == 200
    for index, query in enumerate(typed):
        response, response_time = timed(lambda query=query: client.get("/resultater/", {"q": query}))
        assert response.status_code == 200, (query, response.status_code)
        if index >= WARM_UP:
            served_ms.append(response_time)
    print(f"{SEARCHES} different searches over {APPOINTMENTS:,} appointments on PostgreSQL", end=" ")
    print(f"({WARM_UP} warm-up not counted)")
    print(f"  queries with at least one municipality found: {sum(1 for n in found if n)}/{len(found)}")
    measured = [
        ("search (MunicipalityFilter.results)", search_ms),
        ("whole /resultater/ response, as served", served_ms),
        ("  the same with nothing cached", cold_ms),
    ]
    for label, samples in measured:
        p50, p95, worst = percentiles(samples)
        print(f"  {label:42} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   max {worst:6.1f} ms")
    for label, samples in [("the search", search_ms), ("the whole response as served", served_ms)]:
        p95 = percentiles(samples)[1]
        verdict = "met" if p95 < TARGET_MS else "NOT met"
        print(f"Target p95 < {TARGET_MS:.0f} ms for {label}: {verdict} ({p95 / TARGET_MS:.2f}x target)")
    cold_p95 = percentiles(cold_ms)[1]
    print(f"With nothing cached (every row rendered) the response's p95 is {cold_p95 / TARGET_MS:.2f}x the target.")
    print(f"Load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
