"""Token authentication with a limit on guessing: wrong tokens count as failed logins
(django-axes) under one name per address, so after AXES_FAILURE_LIMIT of them the
address gets 429 for the cool-off, whatever token it sends (config/guard.py)."""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth.signals import user_login_failed
from rest_framework import authentication
from rest_framework.exceptions import AuthenticationFailed, Throttled

from config.guard import API_TOKEN, locked_for

CREDENTIALS = {"username": API_TOKEN}


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # no token offered: another class's business
        if not AxesProxyHandler.is_allowed(request._request, CREDENTIALS):
            raise Throttled(locked_for(request._request, API_TOKEN), "Too many wrong tokens from this address.")
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            # Axes counts it; at the limit its middleware answers 429 (config.guard.locked_out).
            user_login_failed.send(sender=__name__, credentials=CREDENTIALS, request=request._request)
            raise
