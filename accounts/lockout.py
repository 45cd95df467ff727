"""Log-in lock-out (django-axes): what a locked-out user sees, and which
address a log-in comes from."""

import ipaddress
import math

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_lockout_parameters
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Sum
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


class UsernameFirstHandler(AxesDatabaseHandler):
    """Locks a username out after AXES_FAILURE_LIMIT failed log-ins, and the
    address they come from only after AXES_ADDRESS_FAILURE_LIMIT failures
    across usernames: an office shares one public address, and one user's
    forgotten password must not lock the whole office out.

    axes compares one failure count with one limit. get_failures() reports
    how close the nearer of the two limits is, on the username limit's scale
    (AXES_FAILURE_LIMIT minus the attempts left), so that comparison and
    the lock-out it leads to follow both limits."""

    def attempts_left(self, request, credentials=None) -> int:
        limits = {"username": settings.AXES_FAILURE_LIMIT, "ip_address": settings.AXES_ADDRESS_FAILURE_LIMIT}
        left = []
        parameters = get_lockout_parameters(request, credentials)
        for parameter, attempts in zip(parameters, self.get_user_attempts(request, credentials)):
            failures = attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0
            left.append(limits.get(parameter, settings.AXES_FAILURE_LIMIT) - failures)
        return min(left, default=settings.AXES_FAILURE_LIMIT)

    def get_failures(self, request, credentials=None) -> int:
        return settings.AXES_FAILURE_LIMIT - self.attempts_left(request, credentials)

    def reset_user_attempts(self, request, credentials=None) -> int:
        """A successful log-in clears that username's failures only: the
        address's count is everybody's there, and one colleague logging in
        must not wipe out the failures of someone guessing at other names."""
        count, _ = AccessAttempt.objects.filter(username=get_client_username(request, credentials)).delete()
        return count


def attempts_left_message(request) -> str | None:
    """"N attempts left" after a failed log-in, or None when axes did not
    count it (no lock-out applies)."""
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None:
        return None
    left = max(0, settings.AXES_FAILURE_LIMIT - failures)
    return ngettext(
        "%(count)d attempt left before the log-in is locked.",
        "%(count)d attempts left before the log-in is locked.",
        left,
    ) % {"count": left}
