"""The product's words: statuses capitalised, "WhatsApp" and "E-mail" as the
product spells them, and no English left in Django admin's pages."""

import pytest
from django.urls import reverse
from django.utils import translation

from contacts.tests.factories import ContactFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_ticket_statuses_are_capitalised():
    with translation.override("pt-br"):
        assert [str(label) for _, label in Ticket.Status.choices] == ["Aberto", "Pendente", "Fechado"]
    with translation.override("en"):
        assert [str(label) for _, label in Ticket.Status.choices] == ["Open", "Pending", "Closed"]


def test_whatsapp_is_spelled_as_the_product_except_in_the_lists_column(admin_client):
    ContactFactory()
    with translation.override("pt-br"):
        assert translation.gettext("WhatsApp") == "WhatsApp"
    page = admin_client.get(reverse("contacts:list")).content.decode()
    assert '<th scope="col">Whatsapp</th>' in page


def test_an_already_open_ticket_is_announced_in_plain_portuguese():
    with translation.override("pt-br"):
        message = translation.gettext("%(contact)s already had an open ticket on %(channel)s: here it is.")
    assert message.endswith("Eis o atendimento.")


@pytest.fixture
def staff_client(admin_client, admin_user):
    admin_user.is_staff = True
    admin_user.save(update_fields=["is_staff"])
    return admin_client


def test_django_admin_shows_the_task_results_and_the_empty_choice_in_portuguese(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    index = client.get(reverse("admin:index")).content.decode()
    assert "Resultados de tarefas" in index and "Tarefas em segundo plano" in index
    assert "Task Results" not in index and "Tasks Database Backend" not in index
    tickets = client.get(reverse("admin:tickets_ticket_changelist")).content.decode()
    assert "Filtrar por criado em" in tickets and "Filter by" not in tickets
    with translation.override("pt-br"):
        assert translation.gettext("- Select an option -") == "- Selecione uma opção -"
        assert translation.gettext("Enter a valid email address.") == "Informe um endereço de e-mail válido."


def test_an_administrators_forms_in_admin_say_e_mail(staff_client, admin_user):
    page = staff_client.get(reverse("admin:auth_user_change", args=[admin_user.pk])).content.decode()
    assert "Endereço de e-mail" in page
