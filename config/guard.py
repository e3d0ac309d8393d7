"""Limits on guessing passwords and API tokens (django-axes, settings AXES_*): a
username that fails AXES_FAILURE_LIMIT times from one address is refused there, its
right password too, until AXES_COOLOFF_TIME has passed since the last failure; wrong
API tokens count the same way under one name per address (hedging/api/auth.py)."""

from __future__ import annotations

import ipaddress
import math

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

API_TOKEN = "(API token)"  # the username wrong tokens are counted under


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def from_proxy(peer: str) -> bool:
    """Whether `peer` is the reverse proxy (settings.AUTOHEDGE_PROXY_IPS, as gunicorn's
    --forwarded-allow-ips: addresses, networks, or *)."""
    address = ip(peer)
    return address is not None and any(
        net == "*" or address in ipaddress.ip_network(net, strict=False) for net in settings.AUTOHEDGE_PROXY_IPS
    )


def client_address(request: HttpRequest) -> str:
    """The address a request came from, the one a lock is kept for: the peer's, or when
    the peer is the proxy, the last address of X-Forwarded-For, the one the proxy saw
    (any before it, the client may have written itself)."""
    peer = request.META.get("REMOTE_ADDR", "")
    if not from_proxy(peer):
        return peer
    seen = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
    return str(ip(seen)) if ip(seen) else peer


def locked_for(request: HttpRequest, username: str) -> int:
    """Seconds left of `username`'s lock at this address (at least 1: it is locked)."""
    last = (AccessAttempt.objects.filter(username=username, ip_address=client_address(request))
            .order_by("-attempt_time").values_list("attempt_time", flat=True).first())
    left = (last + get_cool_off(request) - timezone.now()).total_seconds() if last else 0
    return max(1, math.ceil(left))


def locked_out(request: HttpRequest, response: HttpResponse, credentials: dict | None) -> HttpResponse:
    """Axes' refusal once locked (AXES_LOCKOUT_CALLABLE): the API's JSON under /api/,
    a page saying how long otherwise; 429 either way, with Retry-After."""
    username = get_client_username(request, credentials) or ""
    seconds = locked_for(request, username)
    minutes = math.ceil(seconds / 60)
    if request.path.startswith("/api/"):
        answer: HttpResponse = JsonResponse({"detail": f"Too many wrong tokens from this address: try again in {minutes} min."},
                              status=429)
    else:
        answer = render(request, "registration/locked_out.html", {"username": username, "minutes": minutes}, status=429)
    answer["Retry-After"] = str(seconds)
    return answer
