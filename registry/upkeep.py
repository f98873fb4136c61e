"""Keeping the registry current: who is asked to confirm what, the signed links, and each office's open work.

The people who know keep the registry current (README, "How the registry is kept current"):

- `send_confirmation_requests` (cron) e-mails each entry's recipient a signed, single-use link for every
  entry of theirs that is, or within SOON will be, not confirmed lately. The link's page shows what the
  registry holds and can only confirm the entry or propose a change (registry.services writes both).
- Anyone can report an error on a municipality's, a district's or an arrangement's page.
- Proposals and reports wait in the responsible office's queue in the admin.

The mechanism is generic over *entries with a recipient address* (ENTRY_KINDS): an appointment, whose
physician confirms it, and a role mailbox, confirmed by whoever reads it. A kind says which entries are
due, who receives their link, what the page shows, which rows "This is correct" confirms, its proposal
form and page, and how an approved proposal is applied.
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage, get_connection
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry import access, services
from registry.models import (
    Appointment,
    ConfirmableKind,
    ConfirmationLink,
    ConfirmationRequest,
    ContactKind,
    CountyGovernor,
    ErrorReport,
    FunctionContact,
    Membership,
    Municipality,
    Phone,
    PhoneKind,
    Physician,
    Proposal,
    Visibility,
    confirmation_cutoff,
)
from registry.phones import format_phone, parse_phone

# "Soon": an entry whose confirmation falls out of date within this period is asked for now, and the
# weekly digest lists it (the next month).
SOON = datetime.timedelta(days=30)
LINK_SALT = "registry.confirmation-link"


def cycle_of(day):
    """The cycle `day` is in: its calendar month ("2026-11"). An address gets at most one request per cycle."""
    return f"{day:%Y-%m}"


def due_cutoff(today=None):
    """Confirmations older than this are, or within SOON will be, "not confirmed lately" (confirmation_cutoff)."""
    return confirmation_cutoff((today or timezone.localdate()) + SOON)


def link_token(link):
    """The token of `link` for its address: its nonce, signed with the time of signing."""
    return signing.dumps(link.nonce, salt=LINK_SALT)


def link_days():
    return settings.REGISTRY_CONFIRMATION_LINK_DAYS


class LinkProblem(Exception):
    """A link that cannot be used: `reason` is "invalid", "expired", "used" or "gone"."""

    def __init__(self, reason, link=None):
        super().__init__(reason)
        self.reason = reason
        self.link = link


def open_link(token):
    """Return the unused ConfirmationLink `token` names, with its entry loaded; raise LinkProblem otherwise.

    Tampered or made-up tokens fail the signature ("invalid"); a signature older than
    REGISTRY_CONFIRMATION_LINK_DAYS is "expired"; a link already used is "used"; a link whose entry was
    removed, or is no longer in force, is "gone".
    """
    try:
        nonce = signing.loads(token, salt=LINK_SALT, max_age=datetime.timedelta(days=link_days()))
    except signing.SignatureExpired:
        raise LinkProblem("expired") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise LinkProblem("invalid") from None
    if not isinstance(nonce, str):
        raise LinkProblem("invalid")
    links = ConfirmationLink.objects.select_related("request")
    for kind in ENTRY_KINDS.values():
        links = links.select_related(*kind.related)
    link = links.filter(nonce=nonce).first()
    if link is None:
        raise LinkProblem("gone")
    if link.used_at is not None:
        raise LinkProblem("used", link)
    if link.entry is None or not ENTRY_KINDS[link.kind].is_current(link.entry):
        raise LinkProblem("gone", link)
    return link


@dataclass
class Fact:
    """One thing the registry holds about an entry, and who sees it."""

    label: str
    value: str
    audience: str


EVERYONE = gettext_lazy("everyone (the public list)")
AUTHORITIES = gettext_lazy("authorities only")
OFFICE = gettext_lazy("the county governor's office only")


@dataclass
class Comparison:
    """One line of a proposal against the current values, as the office's queue shows it."""

    label: str
    current: str
    proposed: str

    @property
    def changed(self):
        return self.current != self.proposed


def _phone_label(phone):
    return f"{format_phone(phone.number)} ({phone.get_kind_display()})"


def place_facts(entry):
    """Where an entry (an appointment or a function contact) is: its municipality (and district), or its
    arrangement and the arrangement's members today."""
    if entry.arrangement_id is None:
        facts = [Fact(_("Municipality"), str(entry.municipality), EVERYONE)]
        if entry.district_id:
            facts.append(Fact(_("District"), str(entry.district), EVERYONE))
        return facts
    arrangement = entry.arrangement
    members = Municipality.objects.filter(memberships__in=arrangement.memberships.on(timezone.localdate()))
    return [
        Fact(_("Intermunicipal arrangement"), arrangement.label(), EVERYONE),
        Fact(_("Member municipalities"), ", ".join(m.name for m in members.order_by("name")) or "–", EVERYONE),
    ]


class AppointmentEntry:
    """An appointment: the physician's entry for one municipality, confirmed by the physician."""

    kind = ConfirmableKind.APPOINTMENT
    propose_template = "registry/propose.html"
    # Who uses the link, as history says it ("confirmed by the physician through the confirmation link").
    sender = gettext_lazy("the physician")
    # The ConfirmationLink field that names the entry, and what to load with it.
    field = "appointment"
    related = (
        "appointment__physician",
        "appointment__municipality",
        "appointment__district__municipality",
        "appointment__arrangement",
    )

    def due(self, today):
        """Appointments in force whose confirmation is missing or falls out of date within SOON, with an address."""
        return (
            Appointment.objects.published(on=today)
            .filter(Q(verified_at__isnull=True) | Q(verified_at__lt=due_cutoff(today)))
            .exclude(physician__email="")
            .order_by("municipality__number", "arrangement__name", "role")
        )

    def recipient(self, appointment):
        return appointment.physician.email

    def is_current(self, appointment):
        return appointment.is_current()

    def title(self, appointment):
        return _("%(role)s in %(municipality)s") % {
            "role": appointment.get_role_display(),
            "municipality": appointment.place,
        }

    def phones(self, appointment):
        """The numbers shown with the entry: the post's own, then the physician's."""
        return list(Phone.objects.filter(Q(appointment=appointment) | Q(physician=appointment.physician_id)))

    def facts(self, appointment):
        """Everything the registry holds about the entry, and who sees each part."""
        physician = appointment.physician
        end = date_format(appointment.end_date) if appointment.end_date else _("until further notice")
        facts = [
            Fact(_("Name"), physician.name, EVERYONE),
            Fact(_("Role"), appointment.get_role_display(), EVERYONE),
            *place_facts(appointment),
            Fact(_("Period"), f"{date_format(appointment.start_date)} – {end}", EVERYONE),
            Fact(_("E-mail"), physician.email or "–", EVERYONE),
        ]
        for phone in self.phones(appointment):
            label = _("Phone (%(kind)s)") % {"kind": phone.get_kind_display()}
            value = format_phone(phone.number) + (f" – {phone.note}" if phone.note else "")
            facts.append(Fact(label, value, EVERYONE if phone.is_public else AUTHORITIES))
        if appointment.note:
            facts.append(Fact(_("Note"), appointment.note, EVERYONE))
        facts.append(Fact(_("HPR number"), physician.hpr_number or "–", OFFICE))
        return facts

    def rows_to_confirm(self, appointment):
        """What "This is correct" confirms, one list per model: the appointment and the person it shows."""
        return [[appointment], [appointment.physician]]

    def form_class(self):
        from registry.forms import AppointmentProposalForm

        return AppointmentProposalForm

    def compare(self, appointment, changes):
        """The proposal `changes` against the current values, line by line."""
        physician = appointment.physician
        lines = [Comparison(_("E-mail"), physician.email, changes.get("email", physician.email))]
        proposed_phones = changes.get("phones", {})
        for phone in self.phones(appointment):
            proposed = proposed_phones.get(str(phone.pk))
            current = f"{_phone_label(phone)}, {phone.get_visibility_display()}"
            if proposed is None:
                new = current
            elif not proposed["number"]:
                new = _("remove")
            else:
                number = parse_phone(proposed["number"])
                new = f"{format_phone(number)} ({phone.get_kind_display()}), {Visibility(proposed['visibility']).label}"
            lines.append(Comparison(_("Phone"), current, new))
        new_phone = changes.get("new_phone")
        if new_phone:
            number = format_phone(parse_phone(new_phone["number"]))
            kind, visibility = PhoneKind(new_phone["kind"]).label, Visibility(new_phone["visibility"]).label
            lines.append(Comparison(_("New phone"), "–", f"{number} ({kind}), {visibility}"))
        end = changes.get("end_date")
        lines.append(
            Comparison(
                _("End date"),
                date_format(appointment.end_date) if appointment.end_date else "–",
                date_format(datetime.date.fromisoformat(end)) if end else "–",
            )
        )
        successor = changes.get("successor")
        if successor:
            parts = [successor.get("name"), successor.get("email"), successor.get("phone"), successor.get("hpr_number")]
            lines.append(Comparison(_("Who takes over"), "–", ", ".join(part for part in parts if part)))
        if changes.get("comment"):
            lines.append(Comparison(_("Comment"), "", changes["comment"]))
        return lines

    def apply(self, appointment, changes, *, by, reason):
        """Apply approved `changes` through the write path, as `by` with `reason`. Returns nothing."""
        physician = appointment.physician
        email = changes.get("email")
        if email and email != physician.email:
            physician.email = email
            services.change_physicians([physician], ["email"], by=by, reason=reason)
        phones = {str(phone.pk): phone for phone in self.phones(appointment)}
        removed, changed = [], []
        for pk, proposed in changes.get("phones", {}).items():
            phone = phones.get(pk)
            if phone is None:
                continue  # removed in the meantime
            if not proposed["number"]:
                removed.append(phone)
                continue
            number = parse_phone(proposed["number"])
            if (phone.number, phone.visibility) != (number, proposed["visibility"]):
                phone.number, phone.visibility = number, proposed["visibility"]
                changed.append(phone)
        services.delete_entries(removed, by=by, reason=reason)
        services.change_phones(changed, ["number", "visibility"], by=by, reason=reason)
        new_phone = changes.get("new_phone")
        if new_phone:
            phone = Phone(
                physician=physician,
                number=parse_phone(new_phone["number"]),
                kind=new_phone["kind"],
                visibility=new_phone["visibility"],
            )
            services.add_phones([phone], by=by, reason=reason)
        end = changes.get("end_date")
        if end:
            services.end_appointments([appointment], on=datetime.date.fromisoformat(end), by=by, reason=reason)
        successor = changes.get("successor")
        if successor:
            self._appoint_successor(appointment, successor, after=end, by=by, reason=reason)

    def _appoint_successor(self, appointment, successor, *, after, by, reason):
        """Appoint who takes over, in the same place (municipality, district or arrangement) and role, from the
        day after `after` (or today).

        A physician the registry holds is found by exact HPR number (which also lets an office appoint a
        physician another office keeps, access.check_may_appoint); otherwise a new one is registered.
        """
        start = datetime.date.fromisoformat(after) + datetime.timedelta(days=1) if after else timezone.localdate()
        hpr = successor.get("hpr_number") or ""
        physician = Physician.objects.filter(hpr_number=hpr).first() if hpr else None
        if physician is None:
            physician = Physician(name=successor["name"], email=successor.get("email", ""), hpr_number=hpr or None)
            services.save_entries([physician], by=by, reason=reason)
            if successor.get("phone"):
                phone = Phone(physician=physician, number=parse_phone(successor["phone"]), kind=PhoneKind.MOBILE)
                services.add_phones([phone], by=by, reason=reason)
        new = Appointment(
            physician=physician,
            municipality=appointment.municipality,
            district=appointment.district,
            arrangement=appointment.arrangement,
            role=appointment.role,
            start_date=start,
        )
        new.hpr_confirmation = hpr or None
        services.appoint([new], by=by, reason=reason)


class MailboxEntry:
    """A role mailbox (kommuneoverlege@…, smittevernoverlege@…): a function contact with an address of its own,
    confirmed by whoever reads the mailbox. It can be confirmed, moved to a new address, or said to be gone."""

    kind = ConfirmableKind.FUNCTION_CONTACT
    sender = gettext_lazy("the role mailbox")
    field = "function_contact"
    related = (
        "function_contact__municipality",
        "function_contact__district__municipality",
        "function_contact__arrangement",
    )
    propose_template = "registry/propose_mailbox.html"

    def due(self, today):
        """Role mailboxes of a current place whose confirmation is missing or falls out of date within SOON."""
        current_place = (
            Q(municipality__in=Municipality.objects.active(on=today))
            | Q(district__municipality__in=Municipality.objects.active(on=today))
            | Q(arrangement__memberships__in=Membership.objects.on(today))
        )
        return (
            FunctionContact.objects.filter(kind=ContactKind.ROLE_MAILBOX)
            .filter(pk__in=FunctionContact.objects.filter(current_place).values("pk"))
            .filter(Q(verified_at__isnull=True) | Q(verified_at__lt=due_cutoff(today)))
            .select_related("municipality", "district", "arrangement")
            .order_by("pk")
        )

    def recipient(self, contact):
        return contact.email

    def is_current(self, contact):
        if contact.municipality_id:
            return contact.municipality.is_active()
        if contact.district_id:
            return contact.district.municipality.is_active()
        return contact.arrangement.memberships.on(timezone.localdate()).exists()

    def title(self, contact):
        if contact.role:
            return _("the role mailbox for the %(role)s in %(place)s") % {
                "role": contact.get_role_display(),
                "place": contact.owner,
            }
        return _("the role mailbox of the chief physician function in %(place)s") % {"place": contact.owner}

    def phones(self, contact):
        return []

    def facts(self, contact):
        facts = [
            Fact(_("Kind"), contact.get_kind_display(), EVERYONE),
            Fact(_("Role"), contact.get_role_display() or _("the whole function"), EVERYONE),
            *place_facts(contact),
            Fact(_("E-mail"), contact.email, EVERYONE if contact.is_public else AUTHORITIES),
        ]
        if contact.opening_hours:
            facts.append(Fact(_("Opening hours"), contact.opening_hours, EVERYONE))
        return facts

    def rows_to_confirm(self, contact):
        return [[contact]]

    def form_class(self):
        from registry.forms import MailboxProposalForm

        return MailboxProposalForm

    def compare(self, contact, changes):
        lines = [Comparison(_("E-mail"), contact.email, changes.get("email") or contact.email)]
        if changes.get("gone"):
            lines.append(Comparison(_("The mailbox"), _("in use"), _("no longer in use: remove it")))
        if changes.get("comment"):
            lines.append(Comparison(_("Comment"), "", changes["comment"]))
        return lines

    def apply(self, contact, changes, *, by, reason):
        """Apply approved `changes` through the write path: a new address, or the mailbox removed."""
        if changes.get("gone"):
            services.delete_entries([contact], by=by, reason=reason)
            return
        email = changes.get("email")
        if email and email != contact.email:
            contact.email = email
            services.change_function_contacts([contact], ["email"], by=by, reason=reason)


# The kinds of entries a confirmation link can name, by ConfirmableKind value.
ENTRY_KINDS = {kind.kind: kind for kind in [AppointmentEntry(), MailboxEntry()]}


# Sending the requests.


@dataclass
class Plan:
    """One e-mail to send: an address and its due entries as (kind, entry), or an unsent request to send again."""

    recipient: str
    entries: list = field(default_factory=list)
    request: ConfirmationRequest | None = None


def plan_requests(today=None):
    """What `send_confirmation_requests` would send today: one Plan per address, sorted by address.

    An address already asked in this cycle is left out, unless its e-mail could not be sent: that one is
    sent again, with the links it already has.
    """
    day = today or timezone.localdate()
    cycle = cycle_of(day)
    asked = {request.recipient: request for request in ConfirmationRequest.objects.filter(cycle=cycle)}
    by_address = {}
    for kind in ENTRY_KINDS.values():
        for entry in kind.due(day):
            address = kind.recipient(entry).strip().lower()
            by_address.setdefault(address, []).append((kind, entry))
    plans = []
    for address, request in sorted(asked.items()):
        if request.sent_at is None:
            links = request.links.select_related(*[name for kind in ENTRY_KINDS.values() for name in kind.related])
            plans.append(Plan(address, [(ENTRY_KINDS[link.kind], link.entry) for link in links], request))
    plans += [Plan(address, entries) for address, entries in sorted(by_address.items()) if address not in asked]
    return sorted(plans, key=lambda plan: plan.recipient)


def site_url():
    return settings.REGISTRY_SITE_URL.rstrip("/")


def request_message(request, *, connection=None):
    """The e-mail of `request`, in the site's language: one signed link per entry."""
    links = request.links.select_related(*[name for kind in ENTRY_KINDS.values() for name in kind.related])
    with translation.override(settings.LANGUAGE_CODE):
        entries = [
            {
                "title": ENTRY_KINDS[link.kind].title(link.entry),
                "url": site_url() + reverse("registry:confirm", args=[link_token(link)]),
            }
            for link in links
        ]
        context = {"entries": entries, "days": link_days()}
        subject = _("Kommuneoverlegeregisteret: is your entry correct?")
        body = render_to_string("registry/email/confirmation_request.txt", context)
    return EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [request.recipient], connection=connection)


def send_requests(plans, *, today=None):
    """Store and send the requests in `plans`; return (sent, failed) lists of ConfirmationRequest.

    A request whose e-mail fails keeps its error; the next run in the same cycle sends it again.
    """
    day = today or timezone.localdate()
    requests = [plan.request for plan in plans if plan.request is not None]
    requests += services.request_confirmations([plan for plan in plans if plan.request is None], cycle=cycle_of(day))
    sent, failed = [], []
    connection = get_connection()
    try:
        for request in requests:
            try:
                request_message(request, connection=connection).send()
            except OSError as error:  # smtplib.SMTPException is an OSError too
                services.note_request_sent(request, error=str(error) or error.__class__.__name__)
                failed.append(request)
            else:
                services.note_request_sent(request)
                sent.append(request)
    finally:
        try:
            connection.close()
        except OSError:
            pass
    return sent, failed


# Telling people the outcome.


def send_outcome(recipient, subject, body):
    """Send an outcome message; return an error text, or "" when it was sent. Never raises for a mail failure."""
    if not recipient:
        return ""
    try:
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient]).send()
    except OSError as error:
        return str(error) or error.__class__.__name__
    return ""


def proposal_about(proposal):
    """What the outcome e-mail says the proposal was about: {"title", "keepers"}. Taken before deciding, as an
    approved "no longer in use" removes the entry."""
    link = proposal.link
    with translation.override(settings.LANGUAGE_CODE):
        return {"title": str(ENTRY_KINDS[link.kind].title(link.entry)), "keepers": str(keepers_text(link.entry))}


def tell_proposal_outcome(proposal, about=None):
    """E-mail whoever proposed the change (the link's recipient) what the office decided; return an error text
    or "". `about`: proposal_about(proposal) as it was before the decision (default: now)."""
    link = proposal.link
    with translation.override(settings.LANGUAGE_CODE):
        context = {"proposal": proposal, **(about or proposal_about(proposal))}
        subject = _("Kommuneoverlegeregisteret: your proposed change")
        body = render_to_string("registry/email/proposal_outcome.txt", context)
    return send_outcome(link.request.recipient, subject, body)


def tell_report_outcome(report):
    """E-mail the reporter, if they left an address, what the office decided; return an error text or ""."""
    with translation.override(settings.LANGUAGE_CODE):
        context = {"report": report, "keepers": keepers_text(report.keeper_row)}
        subject = _("Kommuneoverlegeregisteret: your error report")
        body = render_to_string("registry/email/report_outcome.txt", context)
    return send_outcome(report.reporter_email, subject, body)


# Each office's open work: what the editor's home and the digest count.


def open_work_by_office():
    """Return {office id: {"proposals": n, "reports": n, "not_sent": n}}: open proposals and reports, and
    confirmation e-mails that could not be sent, each counted by the ownership rule itself (`kept_by`), so
    an entry kept by two offices counts for both. Four queries, whatever the numbers."""
    offices = list(CountyGovernor.objects.values_list("pk", flat=True))

    def per_office(queryset, counted):
        kept = {f"o{pk}": queryset.model.objects.kept_by([pk]).values("pk") for pk in offices}
        return queryset.aggregate(
            **{name: Count(counted, distinct=True, filter=Q(pk__in=ids)) for name, ids in kept.items()}
        )

    proposals = per_office(Proposal.objects.open(), "pk")
    reports = per_office(ErrorReport.objects.open(), "pk")
    not_sent = per_office(ConfirmationLink.objects.filter(request__in=ConfirmationRequest.objects.failed()), "request")
    return {
        pk: {"proposals": proposals[f"o{pk}"], "reports": reports[f"o{pk}"], "not_sent": not_sent[f"o{pk}"]}
        for pk in offices
    }


def keepers_text(entry):
    """Who keeps `entry`, by name ("Statsforvalteren i Trøndelag"; two offices for an arrangement across a
    border): the ownership rule, asked for this one row."""
    return access.kept_by_text(access.keepers(type(entry), [entry.pk]).get(entry.pk, []))
