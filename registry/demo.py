"""A clearly fictional data set for trying the registry out, shaped like a real national list.

Every person is invented and named "Demo …", every e-mail address is under example.no, and the phone
numbers are chosen from ranges that are not in use for real subscribers (the Swedish one is from the
range PTS reserves for fiction). It covers the cases the registry exists for and every organisation
model: Indre Namdal legetjeneste as a kommunalt oppgavefellesskap from 2026-01-01 (before that, the
same physicians held the roles in each municipality), a vertskommunesamarbeid that shares only the
infection control physician, Oslo's districts with their bydelsoverleger, an interkommunal legevakt,
role mailboxes and 24/7 numbers, a vacancy, a Swedish mobile, numbers for authorities only, and
entries in every office's region, some vacant and some not confirmed lately.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from registry import services
from registry.models import (
    Appointment,
    Arrangement,
    ArrangementKind,
    ContactKind,
    District,
    FunctionContact,
    Legevakt,
    Membership,
    Municipality,
    Phone,
    PhoneKind,
    Physician,
    Role,
    Visibility,
)
from registry.phones import parse_phone

DEMO_EMAIL_DOMAIN = "example.no"

# (key, name, e-mail, HPR number, [(number, kind, visibility, note)])
PHYSICIANS = [
    (
        "namdal",
        "Demo Kari Fiktivsen",
        "kari.fiktivsen@example.no",
        "9000001",
        [
            ("400 00 101", PhoneKind.MOBILE, Visibility.PUBLIC, ""),
            ("400 00 102", PhoneKind.MOBILE, Visibility.AUTHORITIES, "privat, kun ved utbrudd"),
        ],
    ),
    (
        "namdal-deputy",
        "Demo Nils Oppdiktet",
        "nils.oppdiktet@example.no",
        "9000002",
        [("+46 70 174 06 10", PhoneKind.MOBILE, Visibility.PUBLIC, "svensk mobil")],
    ),
    (
        "oslo",
        "Demo Ingrid Eksempel",
        "ingrid.eksempel@example.no",
        "9000003",
        [
            ("21 00 01 00", PhoneKind.OFFICE, Visibility.PUBLIC, "kun dagtid"),
            ("400 00 103", PhoneKind.MOBILE, Visibility.AUTHORITIES, ""),
        ],
    ),
    (
        "oslo-deputy",
        "Demo Ola Prøvesen",
        "ola.provesen@example.no",
        "",
        [("400 00 104", PhoneKind.MOBILE, Visibility.PUBLIC, "")],
    ),
    (
        "bergen",
        "Demo Sigrid Tenkt",
        "sigrid.tenkt@example.no",
        "9000005",
        [
            ("55 00 01 00", PhoneKind.OFFICE, Visibility.PUBLIC, ""),
            ("400 00 105", PhoneKind.MOBILE, Visibility.AUTHORITIES, ""),
        ],
    ),
    (
        "bergen-infection",
        "Demo Per Smittesen",
        "per.smittesen@example.no",
        "9000006",
        [("400 00 106", PhoneKind.MOBILE, Visibility.PUBLIC, "")],
    ),
    (
        "trondheim",
        "Demo Anne Påfunn",
        "anne.pafunn@example.no",
        "9000007",
        [
            ("73 00 01 00", PhoneKind.OFFICE, Visibility.PUBLIC, ""),
            ("400 00 107", PhoneKind.ON_CALL, Visibility.AUTHORITIES, "vakttelefon"),
        ],
    ),
    (
        "kautokeino",
        "Demo Máret Sámisdóttir",
        "maret.samisdottir@example.no",
        "9000008",
        [("400 00 108", PhoneKind.MOBILE, Visibility.PUBLIC, "")],
    ),
    (
        "tromso",
        "Demo Erik Nordlys",
        "erik.nordlys@example.no",
        "9000009",
        [("400 00 109", PhoneKind.MOBILE, Visibility.PUBLIC, "")],
    ),
    (
        "stavanger",
        "Demo Liv Oppspinn",
        "liv.oppspinn@example.no",
        "9000010",
        [("51 00 01 00", PhoneKind.OFFICE, Visibility.PUBLIC, "")],
    ),
    (
        "sunnhordland-infection",
        "Demo Solveig Smittvern",
        "solveig.smittvern@example.no",
        "9000011",
        [("400 00 111", PhoneKind.MOBILE, Visibility.PUBLIC, "")],
    ),
]

INDRE_NAMDAL = ["5045", "5042", "5044", "5043"]  # Grong, Lierne, Namsskogan, Røyrvik share one service.
START = datetime.date(2024, 1, 1)
# Indre Namdal legetjeneste became a kommunalt oppgavefellesskap on this day; before it, the same
# physicians were appointed in each municipality, so "who held the role in Grong on 1 June 2025" has an answer.
NAMDAL_FROM = datetime.date(2026, 1, 1)

# (municipality, physician key, role, note)
APPOINTMENTS = [
    ("0301", "oslo", Role.CHIEF_PHYSICIAN, ""),
    ("0301", "oslo-deputy", Role.DEPUTY, ""),
    ("4601", "bergen", Role.CHIEF_PHYSICIAN, ""),
    ("4601", "bergen-infection", Role.INFECTION_CONTROL_PHYSICIAN, ""),
    ("5001", "trondheim", Role.CHIEF_PHYSICIAN, ""),
    ("5001", "namdal-deputy", Role.DEPUTY, ""),
    ("5612", "kautokeino", Role.CHIEF_PHYSICIAN, ""),
    ("5501", "tromso", Role.CHIEF_PHYSICIAN, ""),
    ("5501", "kautokeino", Role.DEPUTY, ""),
    ("1103", "stavanger", Role.CHIEF_PHYSICIAN, ""),
]

# Before the oppgavefellesskap: the same two physicians, appointed in each municipality until it began.
NAMDAL_BEFORE = [
    *[(number, "namdal", Role.CHIEF_PHYSICIAN) for number in INDRE_NAMDAL],
    *[(number, "namdal-deputy", Role.DEPUTY) for number in INDRE_NAMDAL],
]

# (name, kind, host, members, roles, {role: physician key}, organisation number)
ARRANGEMENTS = [
    (
        "Demo Indre Namdal legetjeneste",
        ArrangementKind.TASK_COMMUNITY,
        "5045",
        INDRE_NAMDAL,
        "",
        {Role.CHIEF_PHYSICIAN: "namdal", Role.DEPUTY: "namdal-deputy"},
        "",
    ),
    (
        "Demo Sunnhordland smittevernsamarbeid",
        ArrangementKind.HOST_MUNICIPALITY,
        "4613",
        ["4613", "4614", "4615"],  # Bømlo, Stord, Fitjar: each keeps its own kommuneoverlege
        Role.INFECTION_CONTROL_PHYSICIAN,
        {Role.INFECTION_CONTROL_PHYSICIAN: "sunnhordland-infection"},
        "",
    ),
]

# Function contacts: (owner number, kind, role, e-mail or number, visibility, opening hours)
FUNCTION_CONTACTS = [
    ("0301", ContactKind.ROLE_MAILBOX, "", "kommuneoverlege@oslo.example.no", Visibility.PUBLIC, ""),
    ("0301", ContactKind.EMERGENCY, "", "21 00 09 99", Visibility.AUTHORITIES, ""),
    ("0301", ContactKind.SWITCHBOARD, "", "21 00 00 00", Visibility.PUBLIC, "hverdager 08–15.30"),
    ("4601", ContactKind.ROLE_MAILBOX, "", "kommuneoverlege@bergen.example.no", Visibility.PUBLIC, ""),
    (
        "4601",
        ContactKind.ROLE_MAILBOX,
        Role.INFECTION_CONTROL_PHYSICIAN,
        "smittevern@bergen.example.no",
        Visibility.PUBLIC,
        "",
    ),
    ("4601", ContactKind.EMERGENCY, "", "55 00 09 99", Visibility.PUBLIC, ""),
    ("5001", ContactKind.ROLE_MAILBOX, "", "kommuneoverlege@trondheim.example.no", Visibility.PUBLIC, ""),
    ("5001", ContactKind.EMERGENCY, "", "73 00 09 99", Visibility.PUBLIC, ""),
    ("1103", ContactKind.SWITCHBOARD, "", "51 00 00 00", Visibility.PUBLIC, "hverdager 08–15"),
]
# The arrangement's own contacts: the function's mailbox and 24/7 number are the oppgavefellesskap's.
ARRANGEMENT_CONTACTS = [
    (
        "Demo Indre Namdal legetjeneste",
        ContactKind.ROLE_MAILBOX,
        "",
        "kommuneoverlege@indrenamdal.example.no",
        Visibility.PUBLIC,
    ),
    ("Demo Indre Namdal legetjeneste", ContactKind.EMERGENCY, "", "74 00 09 99", Visibility.AUTHORITIES),
]

# Out-of-hours clinics: (name, direct number, visibility, opening hours, municipalities served)
LEGEVAKTER = [
    (
        "Demo Namdal interkommunale legevakt",
        "74 00 01 16",
        Visibility.AUTHORITIES,
        "hele døgnet",
        [*INDRE_NAMDAL, "5007", "5047"],
    ),
    ("Demo Legevakten i Trondheim", "73 00 01 16", Visibility.AUTHORITIES, "hele døgnet", ["5001", "5028", "5029"]),
    ("Demo Oslo kommunale legevakt", "21 00 01 16", Visibility.PUBLIC, "hele døgnet", ["0301"]),
]

# Oslo's districts without a bydelsoverlege in the demo, so that coverage has something to show.
DISTRICTS_WITHOUT = {"030104", "030111"}

# 1804 Bodø had a chief physician who left: the vacancy must show, not disappear.
ENDED = [("1804", "Demo Tidligere Lege", "tidligere.lege@example.no")]

# Invented entries across the country: how many municipalities of each county get a chief physician,
# and every how many of those is left vacant or was confirmed long ago. Municipalities already used above
# are skipped. Deterministic: the same run every time.
SPREAD = 4
VACANT_EVERY = 5
STALE_EVERY = 3

REASON = "demo data"

# A municipality whose entry was confirmed this many days ago: still confirmed, but due within a month.
DUE_SOON, DUE_SOON_DAYS = "1103", 170
MAILBOX_DUE_SOON = "4601"


def real_physicians():
    """Physicians that are not part of the demo set: their presence means this is a real registry."""
    return Physician.objects.exclude(email__iendswith="@" + DEMO_EMAIL_DOMAIN)


def _physician(existing, email, name, hpr, phones, new_phones):
    physician = existing.get(email) or Physician(email=email)
    created = physician.pk is None
    physician.name, physician.hpr_number = name, hpr or None
    services.save_entries([physician], by=services.SYSTEM, reason=REASON)
    existing[email] = physician
    if created:
        new_phones += [
            Phone(physician=physician, number=parse_phone(number), kind=kind, visibility=visibility, note=note)
            for number, kind, visibility, note in phones
        ]
    return physician


def _spread(municipalities, used):
    """The invented entries: a few municipalities in every county (the demo's own numbers, names and e-mails)."""
    by_county = {}
    for municipality in municipalities.values():
        if municipality.number in used or not municipality.is_active():
            continue
        by_county.setdefault(municipality.county.number, []).append(municipality)
    entries = []
    serial = 0
    for county in sorted(by_county):
        for municipality in sorted(by_county[county], key=lambda m: m.number)[:SPREAD]:
            serial += 1
            entries.append((serial, municipality))
    return entries


def load_demo_data():
    """Create or refresh the demo set through the write path; return the number of physicians and appointments."""
    now = timezone.now()
    write = {"by": services.SYSTEM, "reason": REASON}
    with transaction.atomic():
        municipalities = {m.number: m for m in Municipality.objects.select_related("county")}
        existing = {p.email: p for p in Physician.objects.filter(email__iendswith="@" + DEMO_EMAIL_DOMAIN)}
        have = set(
            Appointment.objects.values_list(
                "physician_id", "municipality_id", "district_id", "arrangement_id", "role", "start_date"
            )
        )
        physicians, new_phones, appointments, confirm = {}, [], [], []

        def appoint(physician, role, start, *, municipality=None, district=None, arrangement=None, end=None, note=""):
            key = (
                physician.pk,
                municipality.pk if municipality else (district.municipality_id if district else None),
                district.pk if district else None,
                arrangement.pk if arrangement else None,
                role,
                start,
            )
            if key in have:
                return
            have.add(key)
            appointments.append(
                Appointment(
                    physician=physician,
                    municipality=municipality or (district.municipality if district else None),
                    district=district,
                    arrangement=arrangement,
                    role=role,
                    start_date=start,
                    end_date=end,
                    note=note,
                )
            )

        for key, name, email, hpr, phones in PHYSICIANS:
            physicians[key] = _physician(existing, email, name, hpr, phones, new_phones)
        for number, key, role, note in APPOINTMENTS:
            appoint(physicians[key], role, START, municipality=municipalities[number], note=note)
        for number, key, role in NAMDAL_BEFORE:
            end = NAMDAL_FROM - datetime.timedelta(days=1)
            appoint(physicians[key], role, START, municipality=municipalities[number], end=end)
        for number, name, email in ENDED:
            physician = _physician(existing, email, name, "", [], new_phones)
            appoint(
                physician,
                Role.CHIEF_PHYSICIAN,
                START,
                municipality=municipalities[number],
                end=datetime.date(2025, 6, 30),
                note="Sluttet; stillingen er ledig.",
            )

        arrangements = {a.name: a for a in Arrangement.objects.filter(name__startswith="Demo ")}
        members = set(Membership.objects.values_list("arrangement_id", "municipality_id", "valid_from"))
        new_members = []
        for name, kind, host, numbers, roles, holders, org in ARRANGEMENTS:
            arrangement = arrangements.get(name) or Arrangement(name=name)
            arrangement.kind, arrangement.host, arrangement.roles = kind, municipalities[host], roles
            arrangement.organisation_number = org
            services.save_entries([arrangement], **write)
            arrangements[name] = arrangement
            start = NAMDAL_FROM if kind == ArrangementKind.TASK_COMMUNITY else START
            for number in numbers:
                if (arrangement.pk, municipalities[number].pk, start) not in members:
                    new_members.append(
                        Membership(arrangement=arrangement, municipality=municipalities[number], valid_from=start)
                    )
            for role, key in holders.items():
                appoint(physicians[key], role, start, arrangement=arrangement)
        services.save_entries(new_members, **write)

        districts = list(District.objects.filter(municipality__number="0301", runs_health_services=True))
        for district in districts:
            if district.number in DISTRICTS_WITHOUT:
                continue
            slug = district.number
            physician = _physician(
                existing,
                f"bydelsoverlege.{slug}@{DEMO_EMAIL_DOMAIN}",
                f"Demo Bydelslege {district.name}",
                "",
                [(f"4003{slug[-4:]}", PhoneKind.MOBILE, Visibility.PUBLIC, "")],
                new_phones,
            )
            appoint(physician, Role.CHIEF_PHYSICIAN, START, district=district)

        used = {*INDRE_NAMDAL, *(a[0] for a in APPOINTMENTS), *(e[0] for e in ENDED)}
        stale = []
        for serial, municipality in _spread(municipalities, used):
            if serial % VACANT_EVERY == 0:
                continue  # a vacancy: the list must show it
            chief = _physician(
                existing,
                f"lege.{municipality.number}@{DEMO_EMAIL_DOMAIN}",
                f"Demo Lege {municipality.name}",
                "",
                [(f"400 1{serial:04d}", PhoneKind.MOBILE, Visibility.PUBLIC, "")],
                new_phones,
            )
            appoint(chief, Role.CHIEF_PHYSICIAN, START, municipality=municipality)
            if serial % 2:
                deputy = _physician(
                    existing,
                    f"vara.{municipality.number}@{DEMO_EMAIL_DOMAIN}",
                    f"Demo Vara {municipality.name}",
                    "",
                    [(f"400 2{serial:04d}", PhoneKind.MOBILE, Visibility.PUBLIC, "")],
                    new_phones,
                )
                appoint(deputy, Role.DEPUTY, START, municipality=municipality)
            if serial % STALE_EVERY == 0:
                stale.append(municipality.pk)

        services.save_entries(appointments, **write)

        contacts = set(FunctionContact.objects.values_list("municipality_id", "arrangement_id", "kind", "role"))
        new_contacts = []
        for number, kind, role, value, visibility, hours in FUNCTION_CONTACTS:
            municipality = municipalities[number]
            if (municipality.pk, None, kind, role) in contacts:
                continue
            new_contacts.append(_contact(kind, role, value, visibility, hours, municipality=municipality))
        for name, kind, role, value, visibility in ARRANGEMENT_CONTACTS:
            arrangement = arrangements[name]
            if (None, arrangement.pk, kind, role) in contacts:
                continue
            new_contacts.append(_contact(kind, role, value, visibility, "", arrangement=arrangement))
        services.save_entries(new_phones + new_contacts, **write)

        clinics = {c.name: c for c in Legevakt.objects.filter(name__startswith="Demo ")}
        for name, number, visibility, hours, served in LEGEVAKTER:
            clinic = clinics.get(name) or Legevakt(name=name)
            clinic.number, clinic.visibility, clinic.opening_hours = parse_phone(number), visibility, hours
            services.save_entries([clinic], **write)
            services.set_served(clinic, [municipalities[n] for n in served], **write)
            confirm.append(clinic)

        # Everything is confirmed today, except the entries of the municipalities meant to look stale.
        demo_physicians = list(Physician.objects.filter(email__iendswith="@" + DEMO_EMAIL_DOMAIN))
        current = list(
            Appointment.objects.filter(physician__in=demo_physicians).exclude(end_date__lt=timezone.localdate())
        )
        fresh = [a for a in current if a.municipality_id not in stale]
        old = [a for a in current if a.municipality_id in stale]
        services.confirm_entries(entries=demo_physicians, by=services.SYSTEM, now=now)
        services.confirm_entries(entries=fresh, by=services.SYSTEM, now=now)
        services.confirm_entries(entries=old, by=services.SYSTEM, now=now - datetime.timedelta(days=400))
        services.confirm_entries(entries=list(FunctionContact.objects.all()), by=services.SYSTEM, now=now)
        services.confirm_entries(
            entries=list(Arrangement.objects.filter(name__startswith="Demo ")), by=services.SYSTEM, now=now
        )
        services.confirm_entries(entries=confirm, by=services.SYSTEM, now=now)
        # Stavanger's entry was confirmed months ago and falls out of date within a month, so that
        # `send_confirmation_requests` and the weekly digest have something to show.
        earlier = now - datetime.timedelta(days=DUE_SOON_DAYS)
        due = [a for a in current if a.municipality_id == municipalities[DUE_SOON].pk]
        services.confirm_entries(entries=due, by=services.SYSTEM, now=earlier)
        services.confirm_entries(entries=[a.physician for a in due], by=services.SYSTEM, now=earlier)
        # So does Bergen's role mailbox: a mailbox is asked to confirm itself by link too.
        bergen_mailbox = FunctionContact.objects.filter(
            municipality=municipalities[MAILBOX_DUE_SOON], kind=ContactKind.ROLE_MAILBOX
        )
        services.confirm_entries(entries=list(bergen_mailbox), by=services.SYSTEM, now=earlier)
    return {"physicians": len(demo_physicians), "appointments": len(current)}


def _contact(kind, role, value, visibility, hours, **owner):
    if kind == ContactKind.ROLE_MAILBOX:
        return FunctionContact(kind=kind, role=role, email=value, visibility=visibility, opening_hours=hours, **owner)
    return FunctionContact(
        kind=kind, role=role, number=parse_phone(value), visibility=visibility, opening_hours=hours, **owner
    )
