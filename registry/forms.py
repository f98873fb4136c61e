"""The public forms of keeping the registry current: a physician's proposed change, and anyone's error report."""

import time

from django import forms
from django.core import signing
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from registry.models import PhoneKind, Visibility
from registry.phones import PhoneFormField, format_phone, parse_phone
from registry.validators import validate_hpr_number, validate_line, validate_text

COMMENT_LENGTH = 2000


# What a proposal form says when it changes nothing: the link's page has "This is correct" for that.
NOTHING_CHANGED = _("You have not changed anything. If everything is correct, go back and choose «This is correct».")


def comment_field():
    """The free-text field every proposal form ends with."""
    return forms.CharField(
        label=_("Anything else the office should know"),
        required=False,
        max_length=COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        validators=[validate_text],
    )


class AppointmentProposalForm(forms.Form):
    """What a physician may propose about their appointment: numbers, e-mail, an end date, who takes over.

    `changes()` gives what was proposed as JSON values (Proposal.changes); the office's queue shows the same
    form filled in from them (`initial_from`), so that the editor can correct it before approving.
    """

    email = forms.EmailField(label=_("E-mail"), validators=[validate_line])
    new_phone = PhoneFormField(label=_("New phone number"), required=False)
    new_phone_kind = forms.ChoiceField(label=_("Kind of number"), choices=PhoneKind.choices, initial=PhoneKind.MOBILE)
    new_phone_visibility = forms.ChoiceField(
        label=_("Who may see the new number"), choices=Visibility.choices, initial=Visibility.PUBLIC
    )
    end_date = forms.DateField(
        label=_("Last day in this post"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Only if you are leaving the post."),
    )
    successor_name = forms.CharField(label=_("Name"), required=False, max_length=150, validators=[validate_line])
    successor_email = forms.EmailField(label=_("E-mail"), required=False, validators=[validate_line])
    successor_phone = PhoneFormField(label=_("Phone"), required=False)
    successor_hpr = forms.CharField(
        label=_("HPR number"), required=False, max_length=9, validators=[validate_hpr_number]
    )
    comment = comment_field()

    def __init__(self, *args, entry, phones, require_change=True, **kwargs):
        self.entry, self.phones, self.require_change = entry, phones, require_change
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {"email": entry.physician.email, **kwargs["initial"]}
        super().__init__(*args, **kwargs)
        for phone in phones:
            self.fields[f"phone_{phone.pk}"] = PhoneFormField(
                label=_("%(kind)s number") % {"kind": phone.get_kind_display().capitalize()},
                required=False,
                initial=self.initial.get(f"phone_{phone.pk}", phone.number),
                help_text=_("Empty the field to remove the number."),
            )
            self.fields[f"visibility_{phone.pk}"] = forms.ChoiceField(
                label=_("Who may see %(number)s") % {"number": format_phone(phone.number)},
                choices=Visibility.choices,
                initial=self.initial.get(f"visibility_{phone.pk}", phone.visibility),
            )

    def phone_rows(self):
        """(number field, visibility field) for each number the entry shows."""
        return [(self[f"phone_{phone.pk}"], self[f"visibility_{phone.pk}"]) for phone in self.phones]

    def successor_fields(self):
        return [self[name] for name in ("successor_name", "successor_email", "successor_phone", "successor_hpr")]

    def clean_end_date(self):
        end = self.cleaned_data.get("end_date")
        if end and end < self.entry.start_date:
            raise ValidationError(
                _("The last day cannot be before the post began (%(date)s)."),
                params={"date": self.entry.start_date.isoformat()},
            )
        return end

    def clean(self):
        cleaned = super().clean()
        successor = [cleaned.get(name) for name in ("successor_email", "successor_phone", "successor_hpr")]
        if any(successor) and not cleaned.get("successor_name"):
            self.add_error("successor_name", _("Write the name of who takes over, or empty their other fields."))
        if self.require_change and not self.errors and self._is_unchanged(cleaned):
            raise ValidationError(NOTHING_CHANGED)
        return cleaned

    def _is_unchanged(self, cleaned):
        changes = self.changes()
        return (
            changes["email"] == self.entry.physician.email
            and not changes["phones"]
            and not any(changes[name] for name in ("new_phone", "end_date", "successor", "comment"))
        )

    def changes(self):
        """What the form proposes, as JSON values: only the numbers that change, by their id."""
        data = self.cleaned_data
        phones = {}
        for phone in self.phones:
            number, visibility = data.get(f"phone_{phone.pk}"), data.get(f"visibility_{phone.pk}")
            if number != phone.number or visibility != phone.visibility:
                phones[str(phone.pk)] = {"number": number.as_e164 if number else "", "visibility": visibility}
        new_phone = data.get("new_phone")
        successor = None
        if data.get("successor_name"):
            successor = {
                "name": data["successor_name"],
                "email": data.get("successor_email") or "",
                "phone": data["successor_phone"].as_e164 if data.get("successor_phone") else "",
                "hpr_number": data.get("successor_hpr") or "",
            }
        return {
            "email": data.get("email", ""),
            "phones": phones,
            "new_phone": {
                "number": new_phone.as_e164,
                "kind": data["new_phone_kind"],
                "visibility": data["new_phone_visibility"],
            }
            if new_phone
            else None,
            "end_date": data["end_date"].isoformat() if data.get("end_date") else None,
            "successor": successor,
            "comment": data.get("comment", ""),
        }

    @staticmethod
    def initial_from(changes):
        """The form's initial values for `changes` (Proposal.changes): the proposal, filled in."""
        initial = {"email": changes.get("email", ""), "comment": changes.get("comment", "")}
        for pk, phone in changes.get("phones", {}).items():
            initial[f"phone_{pk}"] = parse_phone(phone["number"]) if phone["number"] else ""
            initial[f"visibility_{pk}"] = phone["visibility"]
        if changes.get("new_phone"):
            new = changes["new_phone"]
            initial.update(
                new_phone=parse_phone(new["number"]), new_phone_kind=new["kind"], new_phone_visibility=new["visibility"]
            )
        if changes.get("end_date"):
            initial["end_date"] = changes["end_date"]
        successor = changes.get("successor") or {}
        initial.update(
            successor_name=successor.get("name", ""),
            successor_email=successor.get("email", ""),
            successor_phone=parse_phone(successor["phone"]) if successor.get("phone") else "",
            successor_hpr=successor.get("hpr_number", ""),
        )
        return initial


class MailboxProposalForm(forms.Form):
    """What whoever reads a role mailbox may propose about it: its new address, or that it is no longer in use.

    The same interface as AppointmentProposalForm (`changes()`, `initial_from`), so that the link's page and
    the office's queue treat both kinds alike.
    """

    email = forms.EmailField(label=_("The mailbox's address"), validators=[validate_line])
    gone = forms.BooleanField(
        label=_("This mailbox is no longer in use"),
        required=False,
        help_text=_("The office removes it from the registry. Say in the comment where to write instead."),
    )
    comment = comment_field()

    def __init__(self, *args, entry, phones=(), require_change=True, **kwargs):
        self.entry, self.require_change = entry, require_change
        kwargs.setdefault("initial", {"email": entry.email})
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if self.require_change and not self.errors and self._is_unchanged():
            raise ValidationError(NOTHING_CHANGED)
        return cleaned

    def _is_unchanged(self):
        changes = self.changes()
        return changes["email"] == self.entry.email and not changes["gone"] and not changes["comment"]

    def changes(self):
        data = self.cleaned_data
        return {"email": data.get("email", ""), "gone": bool(data.get("gone")), "comment": data.get("comment", "")}

    @staticmethod
    def initial_from(changes):
        return {key: changes.get(key, default) for key, default in (("email", ""), ("gone", False), ("comment", ""))}


class DecisionForm(forms.Form):
    """The office's decision on a proposal or a report: approve (or "corrected"), or reject with a reason."""

    APPROVE, REJECT = "approve", "reject"
    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    reason = forms.CharField(
        label=_("Reason (told to the sender when you reject)"),
        required=False,
        max_length=COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[validate_text],
    )

    def __init__(self, *args, approve_label, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [(self.APPROVE, approve_label), (self.REJECT, _("Reject"))]

    @property
    def approves(self):
        return self.cleaned_data.get("decision") == self.APPROVE

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == self.REJECT and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Say why you reject it: the sender is told."))
        return cleaned


# A human takes more than this to read the form and write what is wrong; a bot posts at once.
MIN_FILL_SECONDS = 3
# A form older than this is refused (its signed start time); reload the page to write again.
MAX_FORM_AGE = 24 * 60 * 60
STARTED_SALT = "registry.error-report-started"


def form_started():
    """A signed note of when the report form was shown (its hidden `started` field)."""
    return signing.dumps(int(time.time()), salt=STARTED_SALT)


class ErrorReportForm(forms.Form):
    """Anyone's report of an error on a municipality's page. No login, no captcha: a field that people leave
    empty (bots fill in every field) and a minimum time between showing the form and sending it."""

    message = forms.CharField(
        label=_("What is wrong?"),
        max_length=COMMENT_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "For example: the number does not answer, or the chief physician has left. Say what is right, if you know."
        ),
        validators=[validate_text],
    )
    reporter_email = forms.EmailField(
        label=_("Your e-mail address (optional)"),
        required=False,
        help_text=_("Only if you want to hear what the office did. It is not shown anywhere."),
        validators=[validate_line],
    )
    # The trap: hidden from people by the stylesheet and from screen readers, left empty by them.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    started = forms.CharField(widget=forms.HiddenInput)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("website"):
            raise ValidationError(_("The form could not be sent. Leave the last field empty and send it again."))
        try:
            started = signing.loads(self.data.get("started", ""), salt=STARTED_SALT, max_age=MAX_FORM_AGE)
        except signing.BadSignature:
            raise ValidationError(
                _("The form is too old or damaged. Reload the page and write your report again.")
            ) from None
        if not isinstance(started, int) or time.time() - started < MIN_FILL_SECONDS:
            raise ValidationError(
                _("The form was sent within seconds of opening it. Check what you wrote and send it again.")
            )
        return cleaned
