from django.urls import path

from accounts import two_factor

app_name = "accounts"

urlpatterns = [
    path("tofaktor/", two_factor.verify, name="two-factor-verify"),
    path("tofaktor/oppsett/", two_factor.setup, name="two-factor-setup"),
]
