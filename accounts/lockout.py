"""Log-in lock-out (django-axes): what a locked-out user sees, and which
address a log-in comes from."""

import ipaddress
import math

from axes.helpers import get_client_username, get_cool_off
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def lockout_message(request) -> str:
    cool_off = get_cool_off(request)
    if not cool_off:
        return _("Too many failed log-in attempts. Ask an administrator to unlock your access.")
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
    return ngettext(
        "Too many failed log-in attempts. Try again in %(minutes)d minute.",
        "Too many failed log-in attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """The log-in page again, with how long to wait, instead of axes' bare
    English sentence. Status 429 (Too Many Requests)."""
    form = AuthenticationForm(request, initial={"username": get_client_username(request, credentials)})
    context = {
        "form": form,
        "next": request.POST.get("next") or request.GET.get("next", ""),
        "lockout_message": lockout_message(request),
    }
    response = render(request, "registration/login.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)
    add_never_cache_headers(response)  # like the log-in page it stands in for
    return response


def client_ip_address(request) -> str | None:
    """The address a log-in comes from, for the lock-out by address.

    Behind a reverse proxy (BEHIND_PROXY) REMOTE_ADDR is the proxy itself, and
    one wrong password too many would lock everybody out together: use the
    last X-Forwarded-For entry, the one the proxy added (earlier entries are
    whatever the client chose to send).
    """
    if settings.BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR")
