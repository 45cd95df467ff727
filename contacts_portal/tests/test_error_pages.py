"""403, 404 and 500 are pages of the product: in the user's language, with
the menu and a way back; the 500 page renders with the database down."""

import pytest
from django.db import OperationalError, connection
from django.urls import reverse

from contacts.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

LIST = reverse("contacts:list")


def assert_product_page(page):
    assert '<nav class="app-sidebar" aria-label="Menu principal">' in page
    assert f'href="{LIST}">Ir para os contatos</a>' in page  # the way back
    assert "data-history-back" in page
    assert 'lang="pt-br"' in page


def test_a_missing_contact_gets_the_products_404_page_in_portuguese(agent_client):
    response = agent_client.get(reverse("contacts:update", args=[ContactFactory(wallet=None).pk + 1000]))

    assert response.status_code == 404
    page = response.content.decode()
    assert_product_page(page)
    assert "Página não encontrada" in page
    assert "Not Found" not in page
    assert "Sair" in page  # the signed-in user's menu


def test_an_unknown_address_gets_the_404_page_for_an_anonymous_visitor_too(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    page = response.content.decode()
    assert_product_page(page)
    assert "Página não encontrada" in page
    assert "Sair" not in page  # no user menu without a user


def test_a_user_without_a_role_gets_the_products_403_page(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))

    response = client.get(LIST)

    assert response.status_code == 403
    page = response.content.decode()
    assert_product_page(page)
    assert "Acesso negado" in page
    assert "peça a um administrador" in page


def test_the_error_pages_follow_the_users_language(client):
    client.cookies["django_language"] = "en"
    page = client.get("/no-such-page/").content.decode()
    assert "Page not found" in page and "Go to the contacts" in page


def refuse_every_query(execute, sql, params, many, context):
    raise OperationalError("could not connect to server: Connection refused")


def test_the_500_page_renders_with_the_database_unreachable(agent_client):
    agent_client.raise_request_exception = False

    with connection.execute_wrapper(refuse_every_query):
        response = agent_client.get(LIST)

    assert response.status_code == 500
    page = response.content.decode()
    assert_product_page(page)
    assert "Algo deu errado" in page
    assert "Server Error" not in page
    assert "<script" not in page  # no nonce to give them


def test_a_form_sent_without_its_security_token_gets_the_products_403_page():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "ana", "password": "x"})

    assert response.status_code == 403
    page = response.content.decode()
    assert_product_page(page)
    assert "O formulário expirou" in page
    assert "CSRF verification failed" not in page


def test_favicon_ico_leads_to_the_products_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response.url.endswith("favicon.svg")
    assert b'<link rel="icon" href="/static/favicon.svg"' in client.get("/no-such-page/").content
