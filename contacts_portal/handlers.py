"""The WSGI application: Django's handler, and beside it one for the
gateways' webhook with only the middlewares a gateway's request needs.

Every message a customer sends is one request to the webhook, the busiest
address of the site. The panel's middlewares are for people in browsers
(their session, log-in, flash messages, CSRF token, audit context, lock-out
page, static files); a gateway has none of those, and their work was a
good share of each message's. The webhook's handler keeps every other
middleware: the security headers (HSTS, nosniff, referrer and opener
policies, CSP, X-Frame-Options), the HTTPS redirect, the host check and
pt-BR. A middleware added to the settings runs for the webhook too, unless
it is named in FOR_PEOPLE.
"""

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

#: Where the gateways post (tickets:webhook); tested against the URLconf.
WEBHOOK_PREFIX = "/tickets/webhook/"

#: Middlewares with nothing to do for a gateway's request, and why.
FOR_PEOPLE = frozenset(
    {
        # Answers /healthz only.
        "contacts_portal.health.HealthCheckMiddleware",
        # Serves /static/ only.
        "whitenoise.middleware.WhiteNoiseMiddleware",
        # A gateway has no session, no log-in and reads no flash message.
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        # The webhook caps its body itself (checks_its_own_body).
        "contacts_portal.uploads.UploadSizeLimitMiddleware",
        # The webhook is CSRF-exempt: gateways prove who they are with the
        # channel's secret.
        "django.middleware.csrf.CsrfViewMiddleware",
        # The webhook says itself what its writes come from (Source.MESSAGE).
        "audit.recording.RecordingMiddleware",
        # Lock-outs are of people logging in.
        "axes.middleware.AxesMiddleware",
    }
)


class WebhookHandler(WSGIHandler):
    """Django's WSGI handler with the middlewares not in FOR_PEOPLE."""

    def load_middleware(self, is_async=False):
        # Django builds the chain from settings.MIDDLEWARE; it is read here
        # once, when the process starts, before any request is served.
        everyone = settings.MIDDLEWARE
        settings.MIDDLEWARE = [name for name in everyone if name not in FOR_PEOPLE]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = everyone


class SiteApplication:
    """Sends the webhook's requests to WebhookHandler, every other one to
    Django's handler with the whole stack."""

    def __init__(self):
        self.site = WSGIHandler()
        self.webhook = WebhookHandler()

    def __call__(self, environ, start_response):
        handler = self.webhook if environ.get("PATH_INFO", "").startswith(WEBHOOK_PREFIX) else self.site
        return handler(environ, start_response)
