"""No lost edits in the admin: optimistic locking on `updated_at`.

A change form carries the `updated_at` of the entry as the editor opened it (a hidden field) and the
values it showed (Django's hidden initial values). When the form is saved, the entry's row is
locked (SELECT ... FOR NO KEY UPDATE on PostgreSQL, held until the admin's transaction ends) and its
current `updated_at` compared with the one carried: if someone saved the entry in between, the save
is refused with a list of the fields that changed, and the form comes back with the editor's input.
Saving that form again is then a deliberate choice and goes through.

Every admin save of a `TrackedModel` moves `updated_at` (auto_now), so it works as a version number
without a column of its own. A form posted without the hidden field (a script, or a page opened
before this check existed) is not checked.
"""

import datetime

from django import forms
from django.contrib.admin.utils import display_for_field, flatten_fieldsets
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import connections, router
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

VERSION_FIELD = "loaded_version"
EMPTY = "—"


def version_token(instance):
    """Return the version of `instance` as the form carries it: its `updated_at` in ISO 8601."""
    return instance.updated_at.isoformat() if instance.updated_at else ""


def _parse_token(value):
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed if timezone.is_aware(parsed) else None


class VersionCheckedFormMixin:
    """For a ModelForm of a TrackedModel: refuses the save when the row changed after the form was opened."""

    checks_version = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.pk:
            return
        self.initial[VERSION_FIELD] = version_token(self.instance)
        for name, field in self.fields.items():
            # Posts back, next to each field, the value the editor saw: what the conflict message compares.
            field.show_hidden_initial = name != VERSION_FIELD

    def clean(self):
        cleaned_data = super().clean()
        if self.instance.pk and self.data.get(self.add_prefix(VERSION_FIELD)):
            self._refuse_if_changed_since_loaded()
        return cleaned_data

    def _refuse_if_changed_since_loaded(self):
        model = type(self.instance)
        using = router.db_for_write(model, instance=self.instance)
        # By primary key alone: the model's ordering may join nullable relations (an appointment's municipality,
        # district or arrangement), and PostgreSQL cannot lock the nullable side of an outer join.
        queryset = model._base_manager.db_manager(using).filter(pk=self.instance.pk).order_by("pk")
        if connections[using].features.has_select_for_no_key_update:
            # Held until the admin's transaction commits, so two simultaneous saves cannot both pass.
            # NO KEY: does not block inserts that merely reference this row (phones, appointments).
            queryset = queryset.select_for_update(no_key=True, of=("self",))
        else:
            queryset = queryset.select_for_update()
        current = queryset.first()
        if current is None:
            raise ValidationError(
                _("Someone else deleted this entry after you opened it, so it cannot be saved."), code="deleted"
            )
        loaded = _parse_token(self.data.get(self.add_prefix(VERSION_FIELD)))
        if loaded is not None and loaded == current.updated_at:
            return
        # Shown again with the editor's input and the current version: saving once more overwrites knowingly.
        self.data = self.data.copy()
        self.data[self.add_prefix(VERSION_FIELD)] = version_token(current)
        raise ValidationError([self._conflict_header(current), *self._changed_fields(current)], code="conflict")

    def _conflict_header(self, current):
        who = current.updated_by or gettext("someone")
        when = formats.date_format(timezone.localtime(current.updated_at), "DATETIME_FORMAT")
        return gettext(
            "%(who)s saved this entry at %(when)s, after you opened it. Your changes have not been saved. "
            "Check the values below: if you save again, what is in your form replaces them."
        ) % {"who": who, "when": when}

    def _changed_fields(self, current):
        """Return one line per form field whose stored value differs from the value the editor opened."""
        lines = []
        for name, field in self.fields.items():
            model_field = self._model_field(name)
            if model_field is None:
                continue
            current_value = self._current_value(current, model_field)
            loaded_raw = self._widget_data_value(field.hidden_widget(), self[name].html_initial_name)
            if not field.has_changed(self._comparable(model_field, current_value), loaded_raw):
                continue
            lines.append(
                gettext("%(field)s is now “%(current)s” (when you opened the page: “%(loaded)s”).")
                % {
                    "field": self[name].label,
                    "current": self._display(model_field, current_value),
                    "loaded": self._display(model_field, self._loaded_value(field, loaded_raw)),
                }
            )
        if not lines:
            lines.append(
                gettext("No field of this form changed; the change was elsewhere, for example in its phone numbers.")
            )
        return lines

    def _model_field(self, name):
        if name == VERSION_FIELD:
            return None
        try:
            field = self.instance._meta.get_field(name)
        except FieldDoesNotExist:
            return None
        return field if (field.concrete or field.many_to_many) else None

    @staticmethod
    def _current_value(current, model_field):
        if model_field.many_to_many:
            return list(getattr(current, model_field.name).all())
        return getattr(current, model_field.name)

    @staticmethod
    def _comparable(model_field, value):
        if model_field.many_to_many:
            return [obj.pk for obj in value]
        if model_field.is_relation:
            return value.pk if value is not None else None
        return value

    @staticmethod
    def _loaded_value(field, raw):
        """Turn the posted hidden initial value back into what the field means (an object, a date, …)."""
        try:
            if isinstance(field, forms.ModelMultipleChoiceField):
                return list(field.queryset.filter(pk__in=[value for value in raw or [] if value]))
            return field.to_python(raw)
        except (ValidationError, ValueError, TypeError):
            return raw

    @staticmethod
    def _display(model_field, value):
        if model_field.many_to_many:
            return ", ".join(str(obj) for obj in value) or EMPTY
        return str(display_for_field(value, model_field, EMPTY, avoid_link=True))


def versioned_form(form_class):
    """Return `form_class` with the version check and its hidden field."""
    if getattr(form_class, "checks_version", False):
        return form_class
    attrs = {VERSION_FIELD: forms.CharField(required=False, widget=forms.HiddenInput)}
    return type(form_class.__name__, (VersionCheckedFormMixin, form_class), attrs)


def _with_version_field(fieldsets):
    (name, options), *rest = fieldsets
    return [(name, {**options, "fields": (*options["fields"], VERSION_FIELD)}), *rest]


def _without_version_field(fields):
    return None if fields is None else [name for name in fields if name != VERSION_FIELD]


class OptimisticLockingAdminMixin:
    """For a ModelAdmin of a TrackedModel: a second save of an entry someone else changed meanwhile is refused."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not self.has_change_permission(request, obj):
            return fieldsets
        if VERSION_FIELD in flatten_fieldsets(fieldsets):
            return fieldsets
        return _with_version_field(fieldsets)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if "fields" not in kwargs:
            kwargs["fields"] = flatten_fieldsets(self.get_fieldsets(request, obj))
        kwargs["fields"] = _without_version_field(kwargs["fields"])
        return versioned_form(super().get_form(request, obj, change=change, **kwargs))


class OptimisticLockingInlineMixin:
    """For an inline of TrackedModel rows: each row carries and checks its own version."""

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self.has_change_permission(request, obj) or VERSION_FIELD in flatten_fieldsets(fieldsets):
            return fieldsets
        return _with_version_field(fieldsets)

    def get_formset(self, request, obj=None, **kwargs):
        if "fields" not in kwargs:
            kwargs["fields"] = flatten_fieldsets(self.get_fieldsets(request, obj))
        kwargs["fields"] = _without_version_field(kwargs["fields"])
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = versioned_form(formset.form)
        return formset
