"""The trust base of log-in and headers: Argon2 passwords."""

import pytest
from django.contrib.auth.hashers import make_password
from django.test.utils import override_settings
from django.urls import reverse

from contacts_portal import settings as production_settings

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
PASSWORD = "s3cret-pass"
OFFICE = "203.0.113.7"


def log_in(client, username, password=PASSWORD, address=OFFICE, url=LOGIN):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


# Passwords


@override_settings(PASSWORD_HASHERS=production_settings.PASSWORD_HASHERS)
def test_new_passwords_are_stored_with_argon2(django_user_model):
    user = django_user_model.objects.create_user("carla", password=PASSWORD)
    assert user.password.startswith("argon2$")


@override_settings(PASSWORD_HASHERS=production_settings.PASSWORD_HASHERS)
@pytest.mark.parametrize("old_hasher", ["pbkdf2_sha256", "pbkdf2_sha1"])
def test_an_old_pbkdf2_password_still_logs_in_and_is_upgraded_to_argon2(client, agent, old_hasher):
    agent.password = make_password(PASSWORD, hasher=old_hasher)
    agent.save(update_fields=["password"])

    response = log_in(client, "ana")

    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.password.startswith("argon2$")
    assert agent.check_password(PASSWORD)
