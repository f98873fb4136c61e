"""A small, clearly fictional data set for trying the registry out.

Every person is invented, every e-mail address is under example.no, and the phone numbers are
chosen from ranges that are not in use for real subscribers (the Swedish one is from the range PTS
reserves for fiction). It covers the cases the registry exists for: an intermunicipal arrangement
(Indre Namdal), deputies, an infection control physician, a vacancy, a Swedish mobile, numbers for
authorities only, and function contacts.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from registry import services
from registry.models import Appointment, Municipality, Phone, PhoneKind, Physician, Role, Visibility
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
]

INDRE_NAMDAL = ["5045", "5042", "5044", "5043"]  # Grong, Lierne, Namsskogan, Røyrvik share one service.

# (municipality, physician key, role, note)
APPOINTMENTS = [
    *[(number, "namdal", Role.CHIEF_PHYSICIAN, "Interkommunal ordning: Indre Namdal") for number in INDRE_NAMDAL],
    *[(number, "namdal-deputy", Role.DEPUTY, "Interkommunal ordning: Indre Namdal") for number in INDRE_NAMDAL],
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

# Function contacts: (municipality, role mailbox, 24/7 on-call number)
FUNCTION_CONTACTS = [
    ("0301", "kommuneoverlege@oslo.example.no", "21 00 09 99"),
    ("4601", "kommuneoverlege@bergen.example.no", "55 00 09 99"),
    ("5001", "kommuneoverlege@trondheim.example.no", "73 00 09 99"),
    ("5043", "kommuneoverlege@indrenamdal.example.no", "74 00 09 99"),
]

# 1804 Bodø had a chief physician who left: the vacancy must show, not disappear.
ENDED = [("1804", "Demo Tidligere Lege", "tidligere.lege@example.no")]

START = datetime.date(2024, 1, 1)

# A municipality whose entry was confirmed this many days ago: still confirmed, but due within a month.
DUE_SOON, DUE_SOON_DAYS = "1103", 170


def real_physicians():
    """Physicians that are not part of the demo set: their presence means this is a real registry."""
    return Physician.objects.exclude(email__iendswith="@" + DEMO_EMAIL_DOMAIN)


# The change reason of everything the demo data writes.
REASON = "demo data"


def load_demo_data():
    """Create or refresh the demo set through the write path; return the number of physicians and appointments."""
    now = timezone.now()
    with transaction.atomic():
        municipalities = {m.number: m for m in Municipality.objects.all()}
        existing = {p.email: p for p in Physician.objects.filter(email__iendswith="@" + DEMO_EMAIL_DOMAIN)}
        physicians, new_phones = {}, []
        for key, name, email, hpr, phones in PHYSICIANS:
            physician = existing.get(email) or Physician(email=email)
            created = physician.pk is None
            physician.name, physician.hpr_number = name, hpr or None
            services.save_entries([physician], by=services.SYSTEM, reason=REASON)
            physicians[key] = physician
            if created:
                new_phones += [
                    Phone(physician=physician, number=parse_phone(number), kind=kind, visibility=visibility, note=note)
                    for number, kind, visibility, note in phones
                ]
        for _number, name, email in ENDED:
            physician = existing.get(email) or Physician(email=email, name=name)
            if physician.pk is None:
                services.save_entries([physician], by=services.SYSTEM, reason=REASON)
            physicians[email] = physician
        have = set(Appointment.objects.values_list("physician_id", "municipality_id", "role", "start_date"))
        appointments = [
            Appointment(
                physician=physicians[key], municipality=municipalities[number], role=role, start_date=START, note=note
            )
            for number, key, role, note in APPOINTMENTS
        ] + [
            Appointment(
                physician=physicians[email],
                municipality=municipalities[number],
                role=Role.CHIEF_PHYSICIAN,
                start_date=START,
                end_date=datetime.date(2025, 6, 30),
                note="Sluttet; stillingen er ledig.",
            )
            for number, _name, email in ENDED
        ]
        new = [a for a in appointments if (a.physician.pk, a.municipality.pk, a.role, a.start_date) not in have]
        services.save_entries(new, by=services.SYSTEM, reason=REASON)
        changed = []
        for number, mailbox, on_call in FUNCTION_CONTACTS:
            municipality = municipalities[number]
            municipality.role_email = mailbox
            changed.append(municipality)
            if not municipality.phones.exists():
                new_phones.append(Phone(municipality=municipality, number=parse_phone(on_call), kind=PhoneKind.ON_CALL))
        services.save_entries(changed + new_phones, by=services.SYSTEM, reason=REASON)
        current = [a for a in Appointment.objects.filter(physician__in=physicians.values()) if a.end_date is None]
        services.confirm_entries(entries=list(physicians.values()), by=services.SYSTEM, now=now)
        services.confirm_entries(entries=current, by=services.SYSTEM, now=now)
        services.confirm_entries(entries=changed, by=services.SYSTEM, now=now)
        # Stavanger's entry was confirmed months ago and falls out of date within a month, so that
        # `send_confirmation_requests` and the weekly digest have something to show.
        earlier = now - datetime.timedelta(days=DUE_SOON_DAYS)
        due = [a for a in current if a.municipality_id == municipalities[DUE_SOON].pk]
        services.confirm_entries(entries=due, by=services.SYSTEM, now=earlier)
        services.confirm_entries(entries=[a.physician for a in due], by=services.SYSTEM, now=earlier)
    return {"physicians": len(physicians), "appointments": len(appointments)}
