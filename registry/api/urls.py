from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from registry.api.views import MunicipalityViewSet, changes, dump

router = SimpleRouter()
router.register("municipalities", MunicipalityViewSet, basename="municipality")

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("changes/", changes, name="changes"),
    # Before the router: its detail route would take "municipalities.ndjson" for a number.
    path("municipalities.ndjson", dump, name="dump"),
    path("", include(router.urls)),
]
