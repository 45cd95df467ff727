"""Who may open what: anonymous users go to the login page, users without a
role get 403, agents get 404 for another wallet's contact."""

import pytest
from django.urls import reverse

from contacts.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

CONTACT_URLS = ["contacts:update", "contacts:delete", "contacts:photo"]


@pytest.mark.parametrize("name", CONTACT_URLS)
def test_anonymous_user_is_sent_to_log_in(client, name):
    contact = ContactFactory()
    response = client.get(reverse(name, args=[contact.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("name", ["contacts:list", "contacts:create"])
def test_a_logged_in_user_without_a_role_gets_403(client, django_user_model, name):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))
    assert client.get(reverse(name)).status_code == 403


@pytest.mark.parametrize(
    "name, status",
    [
        ("contacts:update", 404),
        ("contacts:photo", 404),
        # Agents may not delete at all: refused before the contact is looked up.
        ("contacts:delete", 403),
    ],
)
def test_agent_never_reaches_another_wallets_contact(agent_client, other_wallet, name, status):
    contact = ContactFactory(wallet=other_wallet)
    assert agent_client.get(reverse(name, args=[contact.pk])).status_code == status


def test_a_missing_photo_is_a_404_not_an_error(admin_client):
    contact = ContactFactory()
    assert admin_client.get(reverse("contacts:photo", args=[contact.pk])).status_code == 404


def test_the_login_page_logs_in_and_goes_to_the_panel(client, admin_user):
    response = client.post(reverse("login"), {"username": admin_user.username, "password": "s3cret-pass"})
    assert response.status_code == 302
    assert response.url == reverse("contacts:list")
