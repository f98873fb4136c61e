"""What the API returns for a municipality. Built from `registry.directory.Entry`, like the page and the exports."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from registry.models import PhoneKind, Role


class PhoneSerializer(serializers.Serializer):
    number = serializers.SerializerMethodField(help_text="E.164, for example +4740000101.")
    kind = serializers.ChoiceField(choices=PhoneKind.choices)
    note = serializers.CharField()

    @extend_schema_field(serializers.CharField())
    def get_number(self, phone):
        return phone.number.as_e164


class ContactSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
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


class CountySerializer(serializers.Serializer):
    number = serializers.CharField()
    name = serializers.CharField()


class CountyGovernorSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class FunctionContactsSerializer(serializers.Serializer):
    """Contacts of the municipality's function rather than a person: the role mailbox and the 24/7 on-call number."""

    email = serializers.CharField(source="role_email", help_text="The role mailbox; empty when unknown.")
    phones = PhoneSerializer(many=True, source="function_phones")


class MunicipalitySerializer(serializers.Serializer):
    number = serializers.CharField(source="municipality.number")
    name = serializers.CharField(source="municipality.name")
    parallel_names = serializers.ListField(
        child=serializers.CharField(), source="municipality.parallel_name_list", help_text="Sami or Kven names."
    )
    county = CountySerializer()
    county_governor = CountyGovernorSerializer()
    function_contacts = FunctionContactsSerializer(source="*")
    contacts = ContactSerializer(many=True)
    has_chief_physician = serializers.BooleanField()
    confirmed_at = serializers.DateTimeField(
        allow_null=True, help_text="The oldest confirmation of the entry's parts; null: some part never confirmed."
    )
    url = serializers.SerializerMethodField(help_text="The municipality's page in the national list.")

    def get_url(self, entry) -> str:
        path = reverse("registry:municipality-detail", args=[entry.municipality.number])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path
