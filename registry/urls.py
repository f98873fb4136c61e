from django.urls import include, path, re_path

from registry import fhir, upkeep_views, views

app_name = "registry"

urlpatterns = [
    path("", views.national_list, name="list"),
    path("resultater/", views.results, name="results"),
    re_path(r"^kommune/(?P<number>[0-9]{1,4})/$", views.municipality_detail, name="municipality-detail"),
    path("ordning/<int:pk>/", views.arrangement_detail, name="arrangement-detail"),
    path("eksport.csv", views.export_csv, name="export-csv"),
    path("eksport.xlsx", views.export_xlsx, name="export-xlsx"),
    path("dekning/", views.coverage, name="coverage"),
    re_path(r"^kommune/(?P<number>[0-9]{4})/meld-feil/$", upkeep_views.report_error, name="report-error"),
    re_path(
        r"^bydel/(?P<number>[0-9]{6})/meld-feil/$", upkeep_views.report_district_error, name="report-district-error"
    ),
    path("ordning/<int:pk>/meld-feil/", upkeep_views.report_arrangement_error, name="report-arrangement-error"),
    path("bekreft/<str:token>/", upkeep_views.confirm, name="confirm"),
    path("bekreft/<str:token>/endre/", upkeep_views.propose, name="propose"),
    path("api/", views.api_docs, name="api-docs"),
    path("api/", include("registry.api.urls")),
    # FHIR R4, read-only (registry.fhir): FHIR's addresses have no trailing slash.
    path("fhir/metadata", fhir.metadata, name="fhir-metadata"),
    re_path(r"^fhir/(?P<kind>[A-Za-z]+)$", fhir.search_type, name="fhir-type"),
    re_path(r"^fhir/(?P<kind>[A-Za-z]+)/(?P<ident>[A-Za-z0-9.-]{1,64})$", fhir.read, name="fhir-read"),
]
