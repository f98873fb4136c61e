"""FHIR R4, read-only, under /fhir/: the registry as Organization, Practitioner, PractitionerRole and Location.

Identifier systems and extensions are those of HL7 Norway's no-basis profiles (the HL7Norway/kodeverk and
basisprofil-r4 repositories): kommunenummer (Volven 3402), bydelsnummer (Volven 3403), organisasjonsnummer
from Enhetsregisteret and the HPR-nummer, each as the OID the profiles prefer. Resource ids are the
registry's natural keys where it has them: `kommune-5045`, `bydel-030102`, `statsforvalter-trondelag`,
`ordning-<id>`, `lege-<id>`, `rolle-<id>` (an appointment), `legevakt-<id>`.

What a reader sees follows the list's rules: only published appointments and the physicians who hold them,
numbers for authorities only only for readers who may see them (registry.access).
"""

import datetime
import json

from django.conf import settings
from django.http import HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from registry.access import may_view_list, sees_restricted_numbers
from registry.models import (
    Appointment,
    Arrangement,
    ContactKind,
    CountyGovernor,
    District,
    FunctionContact,
    Legevakt,
    Municipality,
    Phone,
    Physician,
    Role,
)

CONTENT_TYPE = "application/fhir+json"
KOMMUNENUMMER = "urn:oid:2.16.578.1.12.4.1.1.3402"
BYDELSNUMMER = "urn:oid:2.16.578.1.12.4.1.1.3403"
ORGANISASJONSNUMMER = "urn:oid:2.16.578.1.12.4.1.4.101"
HPR_NUMMER = "urn:oid:2.16.578.1.12.4.1.4.4"
MUNICIPALITY_CODE = "http://hl7.no/fhir/StructureDefinition/no-basis-municipalitycode"
URBAN_DISTRICT = "http://hl7.no/fhir/StructureDefinition/no-basis-urban-district"
DEFAULT_COUNT = 50
MAX_COUNT = 500


def _site_uri(path):
    return f"{(settings.REGISTRY_SITE_URL or 'https://kommuneoverleger.invalid').rstrip('/')}{path}"


def role_system():
    """The registry's own code system for the three roles (none of the national code systems has them)."""
    return _site_uri("/fhir/CodeSystem/rolle")


def office_system():
    return _site_uri("/fhir/NamingSystem/statsforvalter")


class FhirError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def outcome(status, code, message):
    body = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": code, "diagnostics": message}]}
    return _response(body, status=status)


def _clean(value):
    """`value` without empty lists, dicts, strings and None: FHIR's JSON has no empty values."""
    if isinstance(value, dict):
        cleaned = {key: _clean(item) for key, item in value.items()}
        return {key: item for key, item in cleaned.items() if item not in (None, "", [], {})}
    if isinstance(value, list):
        return [item for item in (_clean(item) for item in value) if item not in (None, "", [], {})]
    return value


def _response(body, status=200):
    return HttpResponse(json.dumps(_clean(body), ensure_ascii=False), status=status, content_type=CONTENT_TYPE)


def _meta(obj):
    updated = getattr(obj, "updated_at", None)
    return {"lastUpdated": updated.isoformat()} if updated else {}


def _telecom_phone(number, use="work"):
    return {"system": "phone", "value": number.as_e164, "use": use}


def _ref(kind, ident, display=None):
    reference = {"reference": f"{kind}/{ident}"}
    if display:
        reference["display"] = display
    return reference


# Organizations.


def municipality_id(municipality):
    return f"kommune-{municipality.number}"


def municipality_resource(municipality, contacts, today):
    return {
        "resourceType": "Organization",
        "id": municipality_id(municipality),
        "meta": _meta(municipality),
        "identifier": [{"use": "official", "system": KOMMUNENUMMER, "value": municipality.number}],
        "active": municipality.is_active(on=today),
        "type": [{"text": "Kommune"}],
        "name": municipality.name,
        "alias": municipality.parallel_name_list,
        "telecom": contacts,
        "address": [
            {
                "district": municipality.name,
                "_district": {
                    "extension": [
                        {
                            "url": MUNICIPALITY_CODE,
                            "valueCoding": {
                                "system": KOMMUNENUMMER,
                                "code": municipality.number,
                                "display": municipality.name,
                            },
                        }
                    ]
                },
            }
        ],
    }


def district_resource(district, contacts):
    coding = {"system": BYDELSNUMMER, "code": district.number, "display": district.name}
    return {
        "resourceType": "Organization",
        "id": f"bydel-{district.number}",
        "meta": _meta(district),
        "identifier": [{"use": "official", "system": BYDELSNUMMER, "value": district.number}],
        "active": True,
        "type": [{"text": "Bydel"}],
        "name": district.name,
        "telecom": contacts,
        "address": [
            {"extension": [{"url": URBAN_DISTRICT, "valueCoding": coding}], "district": district.municipality.name}
        ],
        "partOf": _ref("Organization", municipality_id(district.municipality), district.municipality.name),
    }


def office_resource(office):
    return {
        "resourceType": "Organization",
        "id": f"statsforvalter-{office.code}",
        "identifier": [
            {"use": "official", "system": ORGANISASJONSNUMMER, "value": office.organisation_number},
            {"use": "secondary", "system": office_system(), "value": office.code},
        ],
        "active": True,
        "type": [{"text": "Statsforvalter"}],
        "name": office.name,
    }


def arrangement_resource(arrangement, contacts):
    identifiers = []
    if arrangement.organisation_number:
        identifiers.append({"use": "official", "system": ORGANISASJONSNUMMER, "value": arrangement.organisation_number})
    return {
        "resourceType": "Organization",
        "id": f"ordning-{arrangement.pk}",
        "meta": _meta(arrangement),
        "identifier": identifiers,
        "active": True,
        "type": [{"text": arrangement.get_kind_display()}],
        "name": arrangement.name,
        "telecom": contacts,
    }


def _function_telecom(contacts):
    out = []
    for contact in contacts:
        if contact.kind == ContactKind.ROLE_MAILBOX and contact.email:
            out.append({"system": "email", "value": contact.email, "use": "work"})
        elif contact.number:
            out.append(_telecom_phone(contact.number))
    return out


# The searches: each a list of (queryset, builder) parts, paged across.


def _last_updated(queryset, values):
    """Filter on updated_at by each `_lastUpdated` value: a date or date-time with an optional prefix."""
    for value in values:
        prefix, moment = (value[:2], value[2:]) if value[:2] in ("ge", "gt", "le", "lt", "eq") else ("eq", value)
        when = parse_datetime(moment)
        if when is None:
            day = parse_date(moment)
            if day is None:
                raise FhirError(
                    400,
                    "invalid",
                    _("_lastUpdated: «%(value)s» is not a date (2026-01-31) or a date and time.") % {"value": value},
                )
            start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
            end = start + datetime.timedelta(days=1)
        else:
            start = end = when if timezone.is_aware(when) else timezone.make_aware(when)
        lookups = {
            "ge": {"updated_at__gte": start},
            "gt": {"updated_at__gte": end} if start != end else {"updated_at__gt": start},
            "le": {"updated_at__lt": end} if start != end else {"updated_at__lte": start},
            "lt": {"updated_at__lt": start},
            "eq": {"updated_at__gte": start, "updated_at__lt": end} if start != end else {"updated_at": start},
        }[prefix]
        queryset = queryset.filter(**lookups)
    return queryset


def _identifier(value):
    system, bar, code = value.rpartition("|")
    return (system if bar else None), code


class Search:
    """One resource type's search: parses the parameters, pages, and builds the resources of a page."""

    def __init__(self, request, params=None):
        self.request = request
        self.today = timezone.localdate()
        self.restricted = sees_restricted_numbers(request.user)
        params = request.GET if params is None else params
        try:
            self.count = int(params.get("_count", DEFAULT_COUNT))
            self.offset = int(params.get("_offset", 0))
        except ValueError:
            raise FhirError(400, "invalid", _("_count and _offset are whole numbers.")) from None
        if not 0 <= self.count <= MAX_COUNT or self.offset < 0:
            raise FhirError(400, "invalid", _("_count is 0–%(max)s and _offset 0 or more.") % {"max": MAX_COUNT})
        known = {"_count", "_offset", "_lastUpdated", "_format", *self.PARAMETERS}
        unknown = sorted(set(params) - known)
        if unknown:
            raise FhirError(
                400, "not-supported", _("Unknown search parameter: %(names)s.") % {"names": ", ".join(unknown)}
            )
        self.params = params

    def phones(self, **owner):
        """The numbers of `owner` (physician__in=…, appointment__in=…) this reader may see."""
        return Phone.objects.visible(include_restricted=self.restricted).filter(**owner).order_by("pk")

    def ids(self, queryset, prefix, field="pk"):
        """`queryset` limited by each `_id` (`<prefix>-<key>`; another prefix matches nothing here)."""
        for value in self.params.getlist("_id"):
            kind, _dash, key = value.partition("-")
            valid = kind == prefix and (field != "pk" or key.isdigit())
            queryset = queryset.filter(**{field: key}) if valid else queryset.none()
        return queryset

    def updated(self, queryset):
        """`queryset` limited by each `_lastUpdated`."""
        return _last_updated(queryset, self.params.getlist("_lastUpdated"))


class OrganizationSearch(Search):
    PARAMETERS = {"identifier", "_id"}

    def parts(self):
        municipalities = Municipality.objects.order_by("number")
        districts = District.objects.select_related("municipality").order_by("number")
        offices = CountyGovernor.objects.order_by("code")
        arrangements = Arrangement.objects.order_by("pk")
        for value in self.params.getlist("identifier"):
            system, code = _identifier(value)
            municipalities = (
                municipalities.filter(number=code) if system in (None, KOMMUNENUMMER) else municipalities.none()
            )
            districts = districts.filter(number=code) if system in (None, BYDELSNUMMER) else districts.none()
            in_orgnr = system in (None, ORGANISASJONSNUMMER)
            offices = offices.filter(organisation_number=code) if in_orgnr else offices.none()
            arrangements = arrangements.filter(organisation_number=code) if in_orgnr else arrangements.none()
        municipalities = self.updated(self.ids(municipalities, "kommune", "number"))
        districts = self.updated(self.ids(districts, "bydel", "number"))
        arrangements = self.updated(self.ids(arrangements, "ordning"))
        offices = self.ids(offices, "statsforvalter", "code")
        if self.params.getlist("_lastUpdated"):
            offices = offices.none()  # offices keep no date
        return [
            (municipalities, self.municipalities),
            (districts, self.districts),
            (offices, lambda rows: [office_resource(o) for o in rows]),
            (arrangements, self.arrangements),
        ]

    def contacts(self, **owner):
        contacts = FunctionContact.objects.of_the_function().visible(include_restricted=self.restricted)
        by_owner = {}
        for contact in contacts.filter(**owner).order_by("kind", "pk"):
            key = contact.municipality_id or contact.district_id or contact.arrangement_id
            by_owner.setdefault(key, []).append(contact)
        return by_owner

    def municipalities(self, rows):
        contacts = self.contacts(municipality__in=[m.pk for m in rows])
        return [municipality_resource(m, _function_telecom(contacts.get(m.pk, [])), self.today) for m in rows]

    def districts(self, rows):
        contacts = self.contacts(district__in=[d.pk for d in rows])
        return [district_resource(d, _function_telecom(contacts.get(d.pk, []))) for d in rows]

    def arrangements(self, rows):
        contacts = self.contacts(arrangement__in=[a.pk for a in rows])
        return [arrangement_resource(a, _function_telecom(contacts.get(a.pk, []))) for a in rows]


def organization_reference(appointment):
    if appointment.district_id:
        return _ref("Organization", f"bydel-{appointment.district.number}", appointment.district.name)
    if appointment.arrangement_id:
        return _ref("Organization", f"ordning-{appointment.arrangement_id}", appointment.arrangement.name)
    return _ref("Organization", municipality_id(appointment.municipality), appointment.municipality.name)


class PractitionerSearch(Search):
    PARAMETERS = {"identifier", "_id"}

    def parts(self):
        # Only those who hold a published appointment: the registry publishes nobody else.
        holders = Appointment.objects.published().values("physician")
        physicians = Physician.objects.filter(pk__in=holders).order_by("pk")
        for value in self.params.getlist("identifier"):
            system, code = _identifier(value)
            physicians = physicians.filter(hpr_number=code) if system in (None, HPR_NUMMER) else physicians.none()
        return [(self.updated(self.ids(physicians, "lege")), self.build)]

    def build(self, rows):
        phones = {}
        for phone in self.phones(physician__in=[p.pk for p in rows]):
            phones.setdefault(phone.physician_id, []).append(phone)
        return [
            {
                "resourceType": "Practitioner",
                "id": f"lege-{physician.pk}",
                "meta": _meta(physician),
                "identifier": [{"use": "official", "system": HPR_NUMMER, "value": physician.hpr_number}]
                if physician.hpr_number
                else [],
                "active": True,
                "name": [{"text": physician.name}],
                "telecom": [
                    _telecom_phone(p.number, "mobile" if p.kind == "mobile" else "work")
                    for p in phones.get(physician.pk, [])
                ]
                + ([{"system": "email", "value": physician.email, "use": "work"}] if physician.email else []),
            }
            for physician in rows
        ]


class PractitionerRoleSearch(Search):
    PARAMETERS = {"organization", "practitioner", "_id"}

    def parts(self):
        roles = Appointment.objects.published().order_by("pk")
        for value in self.params.getlist("organization"):
            kind, _dash, key = value.removeprefix("Organization/").partition("-")
            if kind == "kommune":
                roles = roles.filter(municipality__number=key, district__isnull=True)
            elif kind == "bydel":
                roles = roles.filter(district__number=key)
            elif kind == "ordning" and key.isdigit():
                roles = roles.filter(arrangement=key)
            else:
                roles = roles.none()
        for value in self.params.getlist("practitioner"):
            kind, _dash, key = value.removeprefix("Practitioner/").partition("-")
            roles = roles.filter(physician=key) if kind == "lege" and key.isdigit() else roles.none()
        return [(self.updated(self.ids(roles, "rolle")), self.build)]

    def build(self, rows):
        phones = {}
        for phone in self.phones(appointment__in=[a.pk for a in rows]):
            phones.setdefault(phone.appointment_id, []).append(phone)
        out = []
        for appointment in rows:
            role = Role(appointment.role)
            period = {"start": appointment.start_date.isoformat()}
            if appointment.end_date:
                period["end"] = appointment.end_date.isoformat()
            telecom = [_telecom_phone(p.number) for p in phones.get(appointment.pk, [])]
            if appointment.physician.email:
                telecom.append({"system": "email", "value": appointment.physician.email, "use": "work"})
            out.append(
                {
                    "resourceType": "PractitionerRole",
                    "id": f"rolle-{appointment.pk}",
                    "meta": _meta(appointment),
                    "active": True,
                    "period": period,
                    "practitioner": _ref(
                        "Practitioner", f"lege-{appointment.physician_id}", appointment.physician.name
                    ),
                    "organization": organization_reference(appointment),
                    "code": [{"coding": [{"system": role_system(), "code": role.value, "display": str(role.label)}]}],
                    "telecom": telecom,
                }
            )
        return out


class LocationSearch(Search):
    PARAMETERS = {"_id"}

    def parts(self):
        return [(self.updated(self.ids(Legevakt.objects.order_by("pk"), "legevakt")), self.build)]

    def build(self, rows):
        return [
            {
                "resourceType": "Location",
                "id": f"legevakt-{clinic.pk}",
                "meta": _meta(clinic),
                "status": "active",
                "name": clinic.name,
                "type": [{"text": "Legevakt"}],
                "telecom": [_telecom_phone(clinic.number)] if self.restricted or clinic.is_public else [],
                "availabilityExceptions": clinic.opening_hours,
            }
            for clinic in rows
        ]


SEARCHES = {
    "Organization": OrganizationSearch,
    "Practitioner": PractitionerSearch,
    "PractitionerRole": PractitionerRoleSearch,
    "Location": LocationSearch,
}


def _page(search):
    """The page's resources and the total, paged across the search's parts. Queries per part, not per row."""
    total = 0
    resources = []
    start, wanted = search.offset, search.count
    for queryset, build in search.parts():
        size = queryset.count()
        if wanted and start < size:
            rows = list(queryset[start : start + wanted])
            resources += build(rows)
            wanted -= len(rows)
        start = max(0, start - size)
        total += size
    return resources, total


def _bundle(request, kind, search, resources, total):
    base = request.build_absolute_uri(reverse("registry:fhir-type", args=[kind]))
    query = request.GET.copy()

    def link(relation, offset):
        query["_offset"] = str(offset)
        query["_count"] = str(search.count)
        return {"relation": relation, "url": f"{base}?{query.urlencode()}"}

    links = [link("self", search.offset)]
    if search.offset + search.count < total:
        links.append(link("next", search.offset + search.count))
    if search.offset:
        links.append(link("previous", max(0, search.offset - search.count)))
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
        "entry": [
            {"fullUrl": f"{base}/{resource['id']}", "resource": resource, "search": {"mode": "match"}}
            for resource in resources
        ],
    }


def _guarded(view):
    def wrapped(request, *args, **kwargs):
        if not may_view_list(request.user):
            return outcome(403, "forbidden", _("Log in to read the registry."))
        try:
            body = view(request, *args, **kwargs)
        except FhirError as error:
            return outcome(error.status, error.code, error.message)
        # Cache-Control comes from the edge middleware, as for every answer: private for a logged-in reader.
        return _response(body)

    return require_GET(wrapped)


def _search_of(kind):
    if kind not in SEARCHES:
        raise FhirError(
            404,
            "not-found",
            _("This server has no %(kind)s resources; it has %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(SEARCHES)},
        )
    return SEARCHES[kind]


@_guarded
def search_type(request, kind):
    search = _search_of(kind)(request)
    resources, total = _page(search)
    return _bundle(request, kind, search, resources, total)


@_guarded
def read(request, kind, ident):
    by_id = QueryDict(mutable=True)
    by_id["_id"] = ident
    resources, _total = _page(_search_of(kind)(request, by_id))
    if not resources:
        raise FhirError(404, "not-found", _("%(kind)s/%(id)s does not exist here.") % {"kind": kind, "id": ident})
    return resources[0]


@_guarded
def metadata(request):
    def resource(kind, params):
        return {
            "type": kind,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": name, "type": kind_of} for name, kind_of in params],
        }

    common = [("_id", "token"), ("_lastUpdated", "date"), ("_count", "number")]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": timezone.localdate().isoformat(),
        "kind": "instance",
        "fhirVersion": "4.0.1",
        "format": [CONTENT_TYPE],
        "implementation": {
            "description": "Kommuneoverlegeregisteret: read-only",
            "url": request.build_absolute_uri(reverse("registry:fhir-metadata")).removesuffix("metadata"),
        },
        "rest": [
            {
                "mode": "server",
                "resource": [
                    resource("Organization", [("identifier", "token"), *common]),
                    resource("Practitioner", [("identifier", "token"), *common]),
                    resource(
                        "PractitionerRole", [("organization", "reference"), ("practitioner", "reference"), *common]
                    ),
                    resource("Location", common),
                ],
            }
        ],
    }
