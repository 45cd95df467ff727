"""The trust base of log-in and headers: Argon2 passwords, the lock-out after
repeated failed log-ins, session lifetime, the Content-Security-Policy, and
the headers and cookies of the production settings."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.test import RequestFactory
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.lockout import client_ip_address
from contacts.models import Tag
from contacts.templatetags.contacts_colours import hue_class
from contacts.tests.environment import production_settings
from contacts.tests.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
PASSWORD = "s3cret-pass"
OFFICE = "203.0.113.7"
ELSEWHERE = "198.51.100.20"
LOCKED_OUT = "Muitas tentativas de login malsucedidas. Tente novamente em 15 minutos."


def log_in(client, username, password=PASSWORD, address=OFFICE, url=LOGIN, **extra):
    # A real POST to the log-in page: force_login() would bypass the lock-out.
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def fail(client, username, times, address=OFFICE):
    for _ in range(times):
        response = log_in(client, username, "wrong-password", address)
    return response


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


ARGON2_FIRST = production_settings().PASSWORD_HASHERS  # the tests' own settings use MD5, for speed


# Passwords


@override_settings(PASSWORD_HASHERS=ARGON2_FIRST)
def test_new_passwords_are_stored_with_argon2(django_user_model):
    user = django_user_model.objects.create_user("carla", password=PASSWORD)
    assert user.password.startswith("argon2$")


@override_settings(PASSWORD_HASHERS=ARGON2_FIRST)
@pytest.mark.parametrize("old_hasher", ["pbkdf2_sha256", "pbkdf2_sha1"])
def test_an_old_pbkdf2_password_still_logs_in_and_is_upgraded_to_argon2(client, agent, old_hasher):
    agent.password = make_password(PASSWORD, hasher=old_hasher)
    agent.save(update_fields=["password"])

    response = log_in(client, "ana")

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.password.startswith("argon2$")
    assert agent.check_password(PASSWORD)


# Lock-out


def test_wrong_passwords_below_the_limit_only_say_the_log_in_failed(client, agent):
    response = fail(client, "ana", times=4)
    assert response.status_code == 200
    assert "e senha corretos" in response.content.decode()
    assert LOCKED_OUT not in response.content.decode()


def test_the_fifth_wrong_password_locks_the_username_out_with_a_message(client, agent):
    response = fail(client, "ana", times=5)

    assert response.status_code == 429
    page = response.content.decode()
    assert LOCKED_OUT in page
    assert 'id="id_username"' in page and 'value="ana"' in page  # the log-in page, not a bare sentence
    assert "no-store" in response["Cache-Control"]
    assert AccessFailureLog.objects.filter(username="ana", locked_out=True).exists()


def test_a_locked_out_username_cannot_log_in_even_with_the_right_password_from_elsewhere(client, agent):
    fail(client, "ana", times=5)

    response = log_in(client, "ana", address=ELSEWHERE)

    assert response.status_code == 429
    assert LOCKED_OUT in response.content.decode()
    assert not is_logged_in(client)


def test_one_users_wrong_passwords_do_not_lock_the_others_at_the_same_address_out(client, agent, other_agent, admin_user):
    # An office shares one public address: Ana's forgotten password locks Ana.
    fail(client, "ana", times=5)

    assert log_in(client, "alice-admin").status_code == 302
    client.post(reverse("logout"))
    assert log_in(client, "bruno").status_code == 302


@override_settings(AXES_ADDRESS_FAILURE_LIMIT=12)
def test_many_failures_across_usernames_lock_the_address_out(client, agent, other_agent):
    # Guessing at several usernames from one address locks the address, once
    # the failures are many more than one user's limit.
    for username in ["admin", "root", "maria", "jose"]:
        response = fail(client, username, times=3)
    assert response.status_code == 429
    assert LOCKED_OUT in response.content.decode()

    response = log_in(client, "bruno")

    assert response.status_code == 429
    assert not is_logged_in(client)
    assert log_in(client, "bruno", address=ELSEWHERE).status_code == 302


def test_the_address_limit_is_many_more_failures_than_a_usernames(settings):
    assert settings.AXES_ADDRESS_FAILURE_LIMIT >= 5 * settings.AXES_FAILURE_LIMIT


def test_a_wrong_password_says_how_many_attempts_are_left(client, agent):
    page = log_in(client, "ana", "wrong-password").content.decode()
    assert "e senha corretos" in page
    assert "Restam 4 tentativas antes do bloqueio." in page

    page = fail(client, "ana", times=3).content.decode()
    assert "Resta 1 tentativa antes do bloqueio." in page


def test_the_admin_log_in_page_says_how_many_attempts_are_left_too(client, agent):
    page = log_in(client, "ana", "wrong-password", url=reverse("admin:login")).content.decode()
    assert "Restam 4 tentativas antes do bloqueio." in page


@override_settings(AXES_ADDRESS_FAILURE_LIMIT=12)
def test_the_attempts_left_count_the_nearer_limit_the_addresss_when_it_is_near(client, agent, other_agent):
    fail(client, "maria", times=4)
    fail(client, "jose", times=4)

    page = log_in(client, "ana", "wrong-password").content.decode()

    assert "Restam 3 tentativas antes do bloqueio." in page


def test_a_colleagues_log_in_does_not_clear_the_failures_of_other_usernames(client, agent, other_agent):
    fail(client, "ana", times=4)
    assert log_in(client, "bruno").status_code == 302
    client.post(reverse("logout"))

    assert fail(client, "ana", times=1).status_code == 429


def test_a_lock_out_leaves_other_users_at_other_addresses_alone(client, agent, other_agent):
    fail(client, "ana", times=5)

    response = log_in(client, "bruno", address=ELSEWHERE)

    assert response.status_code == 302
    assert is_logged_in(client)


def test_a_successful_log_in_clears_the_failure_count(client, agent):
    fail(client, "ana", times=4)
    assert log_in(client, "ana").status_code == 302
    client.post(reverse("logout"))

    response = fail(client, "ana", times=4)

    assert response.status_code == 200


def test_the_lock_out_ends_after_the_cool_off(client, agent):
    fail(client, "ana", times=5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert log_in(client, "ana").status_code == 302


def test_the_admin_log_in_page_counts_and_locks_out_too(client, agent):
    response = fail(client, "ana", times=2)
    for _ in range(3):
        response = log_in(client, "ana", "wrong-password", url=reverse("admin:login"))

    assert response.status_code == 429
    assert LOCKED_OUT in response.content.decode()


def test_the_lock_out_message_follows_the_users_language(client, agent):
    client.cookies["django_language"] = "en"
    response = fail(client, "ana", times=5)
    assert "Too many failed log-in attempts. Try again in 15 minutes." in response.content.decode()


@override_settings(AXES_COOLOFF_TIME=None)
def test_without_a_cool_off_the_message_says_to_ask_an_administrator(client, agent):
    response = fail(client, "ana", times=5)
    assert "Peça a um administrador para desbloquear o seu acesso." in response.content.decode()


@override_settings(AXES_FAILURE_LIMIT=3, AXES_COOLOFF_TIME=timedelta(minutes=1))
def test_the_limit_and_the_cool_off_are_settings(client, agent):
    assert fail(client, "ana", times=2).status_code == 200
    response = fail(client, "ana", times=1)
    assert response.status_code == 429
    assert "Tente novamente em 1 minuto." in response.content.decode()


def test_an_administrator_unlocks_a_username_in_admin(client, agent):
    administrator = agent.__class__.objects.create_user("alice", password=PASSWORD, is_staff=True)
    administrator.groups.add(agent.groups.model.objects.get(name="Administrators"))
    fail(client, "ana", times=5, address=ELSEWHERE)
    client.force_login(administrator)
    changelist = reverse("admin:axes_accessattempt_changelist")

    assert "Bloqueios de login" in client.get(reverse("admin:index")).content.decode()
    page = client.get(changelist, {"locked_out": "yes"})
    assert page.status_code == 200
    assert "ana" in page.content.decode() and "Bloqueado" in page.content.decode()
    response = client.post(
        changelist,
        {
            "action": "delete_selected",
            "_selected_action": list(AccessAttempt.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()

    client.logout()
    assert log_in(client, "ana", address=ELSEWHERE).status_code == 302


def test_administrators_may_read_the_failure_log_but_agents_may_not(client, admin_user, agent):
    admin_user.is_staff = agent.is_staff = True
    admin_user.save()
    agent.save()
    url = reverse("admin:axes_accessfailurelog_changelist")
    client.force_login(admin_user)
    assert client.get(url).status_code == 200
    client.force_login(agent)  # agents are kept out of admin altogether
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("admin:login"))


@pytest.mark.parametrize(
    "behind_proxy, forwarded_for, expected",
    [
        (False, "192.0.2.1", "10.0.0.2"),  # nobody asked to trust the header
        (True, "192.0.2.1, 198.51.100.20", "198.51.100.20"),  # the proxy's own entry is the last
        (True, "not-an-address", "10.0.0.2"),
        (True, "", "10.0.0.2"),
    ],
)
def test_the_address_of_a_log_in_is_the_proxys_last_forwarded_entry(behind_proxy, forwarded_for, expected):
    request = RequestFactory().post(LOGIN, REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for)
    with override_settings(BEHIND_PROXY=behind_proxy):
        assert client_ip_address(request) == expected


# Session lifetime


def test_a_log_in_lasts_a_working_day_and_survives_closing_the_browser_by_default():
    production = production_settings()
    assert production.SESSION_COOKIE_AGE == 10 * 60 * 60
    assert production.SESSION_EXPIRE_AT_BROWSER_CLOSE is False


def test_session_lifetime_and_log_out_on_browser_close_come_from_the_environment():
    production = production_settings(SESSION_COOKIE_AGE="3600", SESSION_EXPIRE_AT_BROWSER_CLOSE="1")
    assert production.SESSION_COOKIE_AGE == 3600
    assert production.SESSION_EXPIRE_AT_BROWSER_CLOSE is True


@override_settings(SESSION_COOKIE_AGE=3600)
def test_the_session_cookie_lives_as_long_as_the_setting_says(client, agent):
    log_in(client, "ana")
    cookie = client.cookies["sessionid"]
    assert cookie["max-age"] == 3600
    assert client.session.get_expiry_age() == 3600


@override_settings(SESSION_EXPIRE_AT_BROWSER_CLOSE=True)
def test_the_session_cookie_ends_with_the_browser_when_asked(client, agent):
    log_in(client, "ana")
    cookie = client.cookies["sessionid"]
    assert cookie["max-age"] == "" and cookie["expires"] == ""
    assert client.session.get_expire_at_browser_close()


# Content-Security-Policy

HTMX = {"HX-Request": "true"}


def policy(response) -> dict[str, list[str]]:
    directives = (part.split() for part in response["Content-Security-Policy"].split(";"))
    return {name: values for name, *values in directives}


def page_nonce(response) -> str | None:
    found = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
    return found and found.group(1)


class InlineCode(HTMLParser):
    """What a nonce-based policy refuses: style attributes, event-handler
    attributes, javascript: links, and inline <script> or <style> without the
    page's nonce. (A <script type="application/json"> is data, not code.)"""

    def __init__(self, nonce):
        super().__init__()
        self.nonce = nonce
        self.refused = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.refused += [f"<{tag} {name}>" for name in attrs if name == "style" or name.startswith("on")]
        if (attrs.get("href") or "").startswith("javascript:"):
            self.refused.append(f"<{tag} href=javascript:>")
        inline_script = tag == "script" and "src" not in attrs and attrs.get("type") != "application/json"
        if (inline_script or tag == "style") and (not self.nonce or attrs.get("nonce") != self.nonce):
            self.refused.append(f"<{tag}> without the nonce")


def refused_inline_code(response) -> list[str]:
    parser = InlineCode(page_nonce(response))
    parser.feed(response.content.decode())
    return parser.refused


@pytest.fixture
def staff_client(client, admin_user):
    admin_user.is_staff = True
    admin_user.save()
    client.force_login(admin_user)
    return client


def test_pages_send_a_strict_content_security_policy(admin_client):
    response = admin_client.get(reverse("contacts:list"))

    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'", f"'nonce-{page_nonce(response)}'"]
    assert directives["style-src"] == ["'self'", f"'nonce-{page_nonce(response)}'"]
    assert directives["img-src"] == ["'self'", "data:"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["form-action"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "unsafe" not in response["Content-Security-Policy"]


def test_every_request_gets_a_new_nonce(admin_client):
    first, second = (page_nonce(admin_client.get(reverse("contacts:list"))) for _ in range(2))
    assert first and second and first != second


def test_tag_colours_come_in_a_style_block_with_the_pages_nonce(admin_client):
    vip = TagFactory(name="VIP", color="#d63384")
    ContactFactory(name="João", tags=[vip])

    response = admin_client.get(reverse("contacts:list"))

    page = response.content.decode()
    assert f'<style nonce="{page_nonce(response)}">.app-tag-{vip.pk}{{--chip:#d63384}}</style>' in page
    assert f'class="app-chip app-tag-{vip.pk}"' in page


def test_a_tag_colour_that_is_not_a_hex_colour_never_reaches_the_stylesheet(admin_client):
    tag = TagFactory(name="VIP")
    Tag.objects.filter(pk=tag.pk).update(color="red}*{a")  # past validation, straight to the table

    page = admin_client.get(reverse("contacts:list")).content.decode()

    assert "red}" not in page


@pytest.mark.parametrize("hue, css_class", [(0, "app-hue-0"), (47, "app-hue-2"), (200, "app-hue-7"), (359, "app-hue-0")])
def test_avatar_colours_are_a_palette_of_classes(hue, css_class):
    assert hue_class(hue) == css_class


def test_panel_pages_and_htmx_fragments_have_no_inline_code_without_the_nonce(admin_client):
    vip = TagFactory(name="VIP", color="#d63384")
    contact = ContactFactory(name="João", tags=[vip])
    update = reverse("contacts:update", args=[contact.pk])
    delete = reverse("contacts:delete", args=[contact.pk])
    responses = {
        "list": admin_client.get(reverse("contacts:list")),
        "list (htmx)": admin_client.get(reverse("contacts:list"), {"q": "jo"}, headers=HTMX),
        "add": admin_client.get(reverse("contacts:create")),
        "add (htmx)": admin_client.get(reverse("contacts:create"), headers=HTMX),
        "edit (htmx)": admin_client.get(update, headers=HTMX),
        "edit with errors (htmx)": admin_client.post(update, {"name": ""}, headers=HTMX),
        "delete (htmx)": admin_client.get(delete, headers=HTMX),
        "delete": admin_client.get(delete),
    }
    for name, response in responses.items():
        assert response.status_code == 200, name
        assert refused_inline_code(response) == [], name
        if "htmx" in name:
            # A fragment arrives with another request's nonce: it may carry none.
            assert "<style" not in response.content.decode() and "<script" not in response.content.decode()


def test_the_log_in_page_has_no_inline_code_without_the_nonce(client, agent):
    assert refused_inline_code(client.get(LOGIN)) == []
    assert refused_inline_code(log_in(client, "ana", "wrong-password")) == []


def test_the_lock_out_page_has_no_inline_code_without_the_nonce(client, agent):
    response = fail(client, "ana", times=5)
    assert response.status_code == 429
    assert refused_inline_code(response) == []


@pytest.mark.parametrize(
    "url",
    [
        "admin:index",
        "admin:contacts_contact_changelist",
        "admin:contacts_contact_add",
        "admin:contacts_tag_changelist",
        "admin:contacts_wallet_add",
        "admin:contacts_customfield_add",
        "admin:axes_accessattempt_changelist",
        "admin:axes_accessfailurelog_changelist",
    ],
)
def test_admin_pages_have_no_inline_code_without_the_nonce(staff_client, url):
    ContactFactory(name="João", tags=[TagFactory()])
    response = staff_client.get(reverse(url))
    assert response.status_code == 200
    assert refused_inline_code(response) == []


def test_the_admin_change_form_with_inlines_has_no_inline_code_without_the_nonce(staff_client):
    contact = ContactFactory(name="João", tags=[TagFactory()])
    response = staff_client.get(reverse("admin:contacts_contact_change", args=[contact.pk]))
    assert response.status_code == 200
    assert refused_inline_code(response) == []


# Production headers and cookies

# What a test cannot take from production: its database, static files served
# from the source folders (no collectstatic), the fast password hasher, the
# test media folder.
NOT_FROM_PRODUCTION = {"DATABASES", "STORAGES", "PASSWORD_HASHERS", "MEDIA_ROOT", "LOGGING"}


@pytest.fixture
def production():
    """The settings of a production server (DEBUG off, HTTPS on), as
    contacts_portal/settings.py computes them from its environment."""
    module = production_settings()
    values = {name: getattr(module, name) for name in dir(module) if name.isupper()}
    assert values["DEBUG"] is False and values["HTTPS"] is True
    with override_settings(**{name: value for name, value in values.items() if name not in NOT_FROM_PRODUCTION}):
        yield


def assert_security_headers(response):
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    directives = policy(response)
    nonce = page_nonce(response)
    assert nonce and f'nonce="{nonce}"' in response.content.decode()
    assert directives["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert directives["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert refused_inline_code(response) == []


def assert_locked_down(cookie):
    assert cookie["secure"] is True
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


def test_in_production_plain_http_is_sent_to_https(client, production):
    response = client.get(LOGIN)
    assert response.status_code == 301
    assert response.url == "https://testserver/login/"


def test_in_production_the_log_in_page_and_the_panel_carry_the_security_headers(client, agent_wallet, production):
    login_page = client.get(LOGIN, secure=True)
    assert login_page.status_code == 200
    assert_security_headers(login_page)

    assert log_in(client, "ana", secure=True).status_code == 302
    panel = client.get(reverse("contacts:list"), secure=True)
    assert panel.status_code == 200
    assert_security_headers(panel)


def test_in_production_every_cookie_is_secure_http_only_and_same_site(client, agent, production):
    client.get(LOGIN, secure=True)
    assert_locked_down(client.cookies["csrftoken"])

    log_in(client, "ana", secure=True)
    assert_locked_down(client.cookies["sessionid"])

    client.post(reverse("set_language"), {"language": "en", "next": "/contacts/"}, secure=True)
    assert client.cookies["django_language"].value == "en"
    assert_locked_down(client.cookies["django_language"])


def test_production_settings_pass_check_deploy_without_a_warning(production, monkeypatch):
    # Set by the browser tests' conftest for Playwright; no server has it.
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    call_command("check", deploy=True, fail_level="WARNING")
