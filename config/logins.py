"""How long a login lasts, and when acting asks for the password again (docs/security.md).

- A login lasts SESSION_COOKIE_AGE (AUTOHEDGE_SESSION_HOURS, 12) after the last request
  the trader made: each one moves the expiry on, except the dashboard's own refresh of
  its status panel, or a tab left open would stay logged in for ever.
- A POST to the pages or the admin (everything there that places or cancels an order,
  switches auto-hedge or changes a row; logging in and out aside) needs the password
  entered within AUTOHEDGE_REAUTH_MINUTES (240): otherwise the trader is sent to a page
  that asks for it, then back to the page they were on, to do it again. Nothing is
  done meanwhile: an order is never sent on a form posted before the password.
  The API is not asked: a token is not a login (docs/security.md).
"""

from __future__ import annotations

import time
from urllib.parse import urlencode, urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.models import User
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

PASSWORD_AT = "autohedge_password_at"  # in the session: when the password was last entered (epoch seconds)
# The POSTs that do not act: logging in and out, and giving the password again.
NOT_ACTING = {"login", "logout", "confirm-password", "admin:login", "admin:logout"}
REFRESH = "status-panel"  # the dashboard's own request every few seconds: not the trader's


def note_password(sender, request: HttpRequest, user, **kwargs) -> None:
    """Every login is a password entry (user_logged_in: the login pages, the admin's, and
    the page asking again); there is no other way in."""
    request.session[PASSWORD_AT] = time.time()


def password_fresh(request: HttpRequest) -> bool:
    entered = request.session.get(PASSWORD_AT)
    return entered is not None and time.time() - entered < settings.AUTOHEDGE_REAUTH_MINUTES * 60


def acting(request: HttpRequest) -> bool:
    match = request.resolver_match  # resolved before process_view; unresolved counts as acting
    return (request.method == "POST" and (match is None or match.view_name not in NOT_ACTING)
            and not request.path_info.startswith("/api/"))


class LoginPolicy:
    """The two rules above, as middleware (after the session, auth and messages ones)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = request.resolver_match
        if request.user.is_authenticated and not (match and match.url_name == REFRESH):
            request.session.modified = True  # saved with a new expiry, SESSION_COOKIE_AGE from now
        return response

    def process_view(self, request: HttpRequest, view, args, kwargs) -> HttpResponse | None:
        if not request.user.is_authenticated or not acting(request) or password_fresh(request):
            return None
        return redirect(f"{reverse('confirm-password')}?{urlencode({'next': page_before(request)})}")


def page_before(request: HttpRequest) -> str:
    """The page the form was posted from (this site's only), else the dashboard."""
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(referer, {request.get_host()}, require_https=request.is_secure()):
        parts = urlsplit(referer)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return reverse("dashboard")


class PasswordForm(forms.Form):
    password = forms.CharField(
        strip=False, widget=forms.PasswordInput(attrs={"autofocus": True, "autocomplete": "current-password"})
    )

    def __init__(self, request: HttpRequest, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.user: User | None = None

    def clean_password(self) -> str:
        # authenticate(): a wrong password counts towards the login lockout, and is audited, as on the login page
        self.user = authenticate(self.request, username=self.request.user.get_username(), password=self.cleaned_data["password"])
        if self.user is None or self.user.pk != self.request.user.pk:
            raise ValidationError("Wrong password.")
        return self.cleaned_data["password"]


@sensitive_post_parameters("password")
@never_cache
@login_required
def confirm_password(request: HttpRequest) -> HttpResponse:
    """Asks for the password, then sends the trader back to `next`: a login again, the
    same user, the session kept (so noted, and audited, as a login)."""
    back = request.POST.get("next", request.GET.get("next", ""))
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        back = reverse("dashboard")
    form = PasswordForm(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.user)
        messages.success(request, "Password confirmed. Nothing was done yet: do it again.")
        return redirect(back)
    entered = request.session.get(PASSWORD_AT)
    minutes = round((time.time() - entered) / 60) if entered else None
    limit = settings.AUTOHEDGE_REAUTH_MINUTES
    within = f"{limit / 60:g} hour{'' if limit == 60 else 's'}" if limit % 60 == 0 else f"{limit:g} minutes"
    return render(
        request, "registration/confirm_password.html", {"form": form, "next": back, "minutes": minutes, "limit": within}
    )
