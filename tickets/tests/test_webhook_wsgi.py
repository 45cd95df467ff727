"""The webhook as gunicorn serves it: through the site's WSGI application,
whose webhook handler runs without the panel's session, log-in, CSRF,
messages, audit and lock-out middlewares (contacts_portal.handlers)."""

import base64
import io
import json

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from django.urls import reverse

from contacts.models import Contact
from contacts_portal.handlers import WEBHOOK_PREFIX, SiteApplication
from tickets.event_body import largest_event_bytes
from tickets.models import Message, Ticket

from . import payloads
from .conftest import WHATSAPP_SECRET

pytestmark = pytest.mark.django_db


def call(application, method: str, path: str, body: bytes = b"", host: str = "testserver", **environ):
    """(status, headers, body) of one request through `application`, as a
    WSGI server would make it."""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        **environ,
    }
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"], started["headers"] = int(status.split()[0]), headers

    # As the test client does: the test's transaction is not a stale
    # connection to close.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        response = application(environ, start_response)
        content = b"".join(response)
        response.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return started["status"], started["headers"], content


def deliver(application, channel, **fields):
    body = json.dumps(payloads.upsert(WHATSAPP_SECRET, **fields)).encode()
    return call(application, "POST", reverse("tickets:webhook", args=[channel.pk]), body)


def test_every_webhook_address_is_served_by_the_webhook_handler():
    assert reverse("tickets:webhook", args=[1]).startswith(WEBHOOK_PREFIX)
    assert reverse("tickets:webhook", args=[987654321]).startswith(WEBHOOK_PREFIX)


def test_a_new_sender_s_message_through_the_site_application_opens_a_ticket_without_csrf_or_cookies(whatsapp):
    status, headers, content = deliver(SiteApplication(), whatsapp, remote_jid="5511987654321@s.whatsapp.net", push_name="Ana")

    assert (status, json.loads(content)) == (200, {"stored": 1})
    assert "Set-Cookie" not in dict(headers)
    message = Message.objects.get()
    assert (message.contact.name, message.ticket) == ("Ana", Ticket.objects.get(contact=message.contact))
    assert message.contact.history.get().history_source == "message"


def test_the_webhook_answers_with_the_site_s_security_headers(whatsapp):
    _status, headers, _content = deliver(SiteApplication(), whatsapp)
    headers = dict(headers)
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_what_the_webhook_writes_in_words_is_in_pt_br(whatsapp):
    status, headers, _content = deliver(SiteApplication(), whatsapp, remote_jid="123456789012345@lid", push_name="")
    assert status == 200
    assert dict(headers)["Content-Language"] == "pt-br"
    assert Contact.objects.get().name == "Contato do WhatsApp"


@override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=3600)
def test_the_webhook_over_plain_http_is_sent_to_https_and_https_gets_hsts(whatsapp):
    application = SiteApplication()  # the middlewares read these settings when loaded
    status, headers, _content = deliver(application, whatsapp)
    assert (status, dict(headers)["Location"].startswith("https://")) == (301, True)
    assert not Message.objects.exists()

    body = json.dumps(payloads.upsert(WHATSAPP_SECRET)).encode()
    status, headers, _content = call(application, "POST", reverse("tickets:webhook", args=[whatsapp.pk]), body, **{"wsgi.url_scheme": "https"})
    assert (status, dict(headers)["Strict-Transport-Security"].startswith("max-age=3600")) == (200, True)


def test_the_webhook_refuses_a_host_the_site_does_not_serve(whatsapp):
    body = json.dumps(payloads.upsert(WHATSAPP_SECRET)).encode()
    status, _headers, _content = call(SiteApplication(), "POST", reverse("tickets:webhook", args=[whatsapp.pk]), body, host="evil.example")
    assert status == 400
    assert not Message.objects.exists()


def test_the_panel_keeps_csrf_and_log_in():
    application = SiteApplication()
    status, headers, _content = call(application, "GET", reverse("tickets:list"))
    assert (status, dict(headers)["Location"].startswith(reverse("login"))) == (302, True)
    status, _headers, _content = call(
        application, "POST", reverse("login"), b"username=a&password=b", CONTENT_TYPE="application/x-www-form-urlencoded"
    )
    assert status == 403  # no CSRF token


def test_a_photo_event_larger_than_the_projects_request_cap_keeps_its_message(whatsapp, settings):
    # DATA_UPLOAD_MAX_MEMORY_SIZE caps what is read whole; the webhook reads
    # a large event in pieces, without its inline file.
    message = {"imageMessage": {"mimetype": "image/jpeg", "caption": "foto"}, "base64": base64.b64encode(bytes(2_000_000)).decode()}
    body = json.dumps(payloads.upsert(WHATSAPP_SECRET, message=message, message_type="imageMessage")).encode()
    assert len(body) > 2 * settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    status, _headers, content = call(SiteApplication(), "POST", reverse("tickets:webhook", args=[whatsapp.pk]), body, HTTP_APIKEY=WHATSAPP_SECRET)
    assert (status, json.loads(content)) == (200, {"stored": 1})
    assert Message.objects.get().body == "foto"


class Unreadable(io.BytesIO):
    def read(self, *args):
        raise AssertionError("the body was read")


def test_a_body_declared_over_the_largest_event_is_refused_before_it_is_read(whatsapp):
    status, _headers, content = call(
        SiteApplication(), "POST", reverse("tickets:webhook", args=[whatsapp.pk]),
        CONTENT_LENGTH=str(largest_event_bytes() + 1), HTTP_APIKEY=WHATSAPP_SECRET, **{"wsgi.input": Unreadable()},
    )
    assert (status, json.loads(content)) == (400, {"error": "too large"})
    assert not Message.objects.exists()
