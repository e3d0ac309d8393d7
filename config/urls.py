from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config import logins
from hedging import views as hedging_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/confirm/", logins.confirm_password, name="confirm-password"),
    path("accounts/token/", hedging_views.api_token, name="api-token"),
    path("api/hedge/", include("hedging.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),  # the schema only: every endpoint needs a user
    path("api/schema/ui/", hedging_views.api_reference, name="schema-ui"),
    path("", include("hedging.urls")),
]
