"""What the API returns for a municipality. Built from `registry.directory.Entry`, like the page and the exports."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.models import ArrangementKind, ContactKind, PhoneKind, Role


class PhoneSerializer(serializers.Serializer):
    number = serializers.SerializerMethodField(help_text="E.164, for example +4740000101.")
    kind = serializers.ChoiceField(choices=PhoneKind.choices)
    note = serializers.CharField()

    @extend_schema_field(serializers.CharField())
    def get_number(self, phone):
        return phone.number.as_e164


class ContactSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    arrangement = serializers.SerializerMethodField(
        help_text="The id of the arrangement the role is held through; null: the municipality's own appointment."
    )
    name = serializers.CharField()
    email = serializers.CharField(help_text="Empty when unknown.")
    phones = PhoneSerializer(many=True)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(allow_null=True, help_text="Null: until further notice.")
    verified_at = serializers.DateTimeField(
        allow_null=True, help_text="When the office last confirmed it; null: never."
    )
    shared_with = serializers.SerializerMethodField(
        help_text="Numbers of the other municipalities this physician serves today (intermunicipal arrangements)."
    )

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_shared_with(self, contact):
        return [municipality.number for municipality in contact.shared_with]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_arrangement(self, contact):
        return contact.through.arrangement.pk if contact.through is not None else None


class CountySerializer(serializers.Serializer):
    number = serializers.CharField()
    name = serializers.CharField()


class CountyGovernorSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ArrangementSerializer(serializers.Serializer):
    """An intermunicipal arrangement the municipality is a member of on the day."""

    id = serializers.IntegerField(source="arrangement.pk")
    name = serializers.CharField(source="arrangement.name")
    kind = serializers.ChoiceField(choices=ArrangementKind.choices, source="arrangement.kind")
    organisation_number = serializers.CharField(
        source="arrangement.organisation_number", help_text="Empty when unknown."
    )
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices),
        source="arrangement.role_list",
        help_text="The roles it holds for its members.",
    )
    members = serializers.SerializerMethodField(help_text="Numbers of the member municipalities on the day.")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_members(self, through):
        return [municipality.number for municipality in through.members]


class FunctionContactSerializer(serializers.Serializer):
    """A contact of the function rather than a person: a role mailbox, the 24/7 number, the switchboard."""

    kind = serializers.ChoiceField(choices=ContactKind.choices)
    role = serializers.CharField(help_text="For a role mailbox: the role it is for; empty: the function's.")
    email = serializers.CharField(help_text="For a role mailbox; empty otherwise.")
    number = serializers.SerializerMethodField(help_text="E.164, for the 24/7 number and the switchboard.")
    opening_hours = serializers.CharField()
    arrangement = serializers.SerializerMethodField(help_text="The arrangement's id when it is the arrangement's.")
    verified_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_number(self, contact):
        return contact.number.as_e164 if contact.number else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_arrangement(self, contact):
        through = getattr(contact, "through", None)
        return through.arrangement.pk if through else None


class LegevaktSerializer(serializers.Serializer):
    """An out-of-hours clinic that serves the municipality, with its direct number."""

    name = serializers.CharField()
    number = serializers.SerializerMethodField(help_text="E.164.")
    opening_hours = serializers.CharField()

    @extend_schema_field(serializers.CharField())
    def get_number(self, legevakt):
        return legevakt.number.as_e164


class MunicipalityReferenceSerializer(serializers.Serializer):
    number = serializers.CharField()
    name = serializers.CharField()


class MunicipalitySerializer(serializers.Serializer):
    number = serializers.CharField(source="municipality.number")
    name = serializers.CharField(source="municipality.name")
    parallel_names = serializers.ListField(
        child=serializers.CharField(), source="municipality.parallel_name_list", help_text="Sami or Kven names."
    )
    county = CountySerializer()
    county_governor = CountyGovernorSerializer()
    valid_from = serializers.DateField(source="municipality.valid_from", allow_null=True)
    valid_to = serializers.DateField(source="municipality.valid_to", allow_null=True, help_text="Null: exists.")
    predecessors = serializers.SerializerMethodField(
        help_text="Municipalities it succeeded in a reform, and numbers it had before a renumbering."
    )
    successors = MunicipalityReferenceSerializer(many=True, source="municipality.successors.all")
    arrangements = ArrangementSerializer(many=True)
    function_contacts = FunctionContactSerializer(many=True)
    legevakter = LegevaktSerializer(many=True)
    contacts = ContactSerializer(many=True)
    has_chief_physician = serializers.BooleanField()
    confirmed_at = serializers.DateTimeField(
        allow_null=True, help_text="The oldest confirmation of the entry's parts; null: some part never confirmed."
    )
    url = serializers.SerializerMethodField(help_text="The municipality's page in the national list.")

    @extend_schema_field(MunicipalityReferenceSerializer(many=True))
    def get_predecessors(self, entry):
        municipality = entry.municipality
        earlier = [{"number": m.number, "name": m.name} for m in municipality.predecessors.all()]
        earlier += [{"number": f.number, "name": municipality.name} for f in municipality.former_numbers.all()]
        return sorted(earlier, key=lambda item: item["number"])

    def get_url(self, entry) -> str:
        path = reverse("registry:municipality-detail", args=[entry.municipality.number])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path
