"""The contact beside a ticket's conversation: its fields, tags, wallet and
extra fields, changed in place through the contacts' own form and rules;
values only for those who may not change it."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from contacts.models import Contact, CustomField
from contacts.tests.factories import ContactFactory, TagFactory, UserFactory, WalletFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def contact(agent_wallet):
    made = ContactFactory(name="Maria Souza", number="5511987654321", email="", cpf_cnpj="", telegram_id="", wallet=agent_wallet)
    CustomField.objects.create(contact=made, name="Cidade", value="Recife")
    return made


@pytest.fixture
def ticket(contact, whatsapp, agent):
    return Ticket.objects.create(contact=contact, channel=whatsapp, user=agent)


def panel_data(contact, **overrides):
    """What the side panel's form sends as it was rendered, with changes."""
    field = contact.custom_fields.get(name="Cidade")
    data = {
        "contact-version": contact.updated_at.isoformat(),
        "contact-name": contact.name,
        "contact-number": "+55 11 98765-4321",
        "contact-email": "",
        "contact-cpf_cnpj": "",
        "contact-birth_date": "",
        "contact-first_name": "",
        "contact-last_name": "",
        "contact-company": "",
        "contact-wallet": contact.wallet_id or "",
        "contact-telegram_id": "",
        "custom_fields-TOTAL_FORMS": "2",
        "custom_fields-INITIAL_FORMS": "1",
        "custom_fields-MIN_NUM_FORMS": "0",
        "custom_fields-MAX_NUM_FORMS": "50",
        "custom_fields-0-id": field.pk,
        "custom_fields-0-contact": contact.pk,
        "custom_fields-0-name": "Cidade",
        "custom_fields-0-value": "Recife",
        "custom_fields-1-name": "",
        "custom_fields-1-value": "",
    }
    data.update(overrides)
    return data


def test_the_ticket_page_has_the_contacts_form_beside_the_conversation(agent_client, ticket):
    content = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert 'id="contact-panel"' in content
    assert f'action="{reverse("tickets:contact", args=[ticket.pk])}"' in content
    assert 'name="contact-name" value="Maria Souza"' in content
    assert 'value="Recife"' in content and "Informações adicionais" in content
    assert 'name="text"' in content  # the reply box, beside it


def test_the_panel_saves_fields_tags_wallet_and_extra_fields(agent_client, agent, ticket, contact):
    vip = TagFactory(name="VIP")
    second_wallet = WalletFactory(name="Carteira Ana 2", user=agent)
    data = panel_data(
        contact,
        **{
            "contact-name": "Maria S. Oliveira",
            "contact-email": "Maria@Exemplo.com.br",
            "contact-cpf_cnpj": "52998224725",
            "contact-tags": [vip.pk],
            "contact-wallet": second_wallet.pk,
            "custom_fields-0-value": "Olinda",
            "custom_fields-1-name": "Plano",
            "custom_fields-1-value": "Pro",
        },
    )
    response = agent_client.post(reverse("tickets:contact", args=[ticket.pk]), data, headers=HTMX)
    assert response.status_code == 200
    content = response.content.decode()
    assert "Contato “Maria S. Oliveira” salvo." in content
    assert 'id="ticket-contact-name" hx-swap-oob="true">Maria S. Oliveira<' in content
    assert "<html" not in content
    contact.refresh_from_db()
    assert (contact.name, contact.email, contact.cpf_cnpj, contact.wallet) == (
        "Maria S. Oliveira",
        "maria@exemplo.com.br",
        "529.982.247-25",
        second_wallet,
    )
    assert list(contact.tags.all()) == [vip]
    assert dict(contact.custom_fields.values_list("name", "value")) == {"Cidade": "Olinda", "Plano": "Pro"}
    # The panel comes back with the new version: a second save is no conflict.
    again = panel_data(contact, **{"contact-company": "Padaria"})
    assert "salvo" in agent_client.post(reverse("tickets:contact", args=[ticket.pk]), again, headers=HTMX).content.decode()
    contact.refresh_from_db()
    assert contact.company == "Padaria"


def test_the_panel_refuses_bad_input_with_a_message_and_saves_nothing(agent_client, ticket, contact):
    before = Contact.objects.values().get(pk=contact.pk)
    data = panel_data(contact, **{"contact-name": "Outro Nome", "contact-cpf_cnpj": "123.456.789-00", "contact-birth_date": "31/02/1990"})
    response = agent_client.post(reverse("tickets:contact", args=[ticket.pk]), data, headers=HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert "Corrija os campos indicados abaixo; nada foi salvo." in content
    assert "CPF" in content and "dd/mm/aaaa" in content
    assert Contact.objects.values().get(pk=contact.pk) == before


def test_a_number_another_contact_has_is_refused_with_a_link_to_it(agent_client, ticket, contact, agent_wallet):
    other = ContactFactory(name="João", number="5521912340000", wallet=agent_wallet)
    data = panel_data(contact, **{"contact-number": "(21) 91234-0000"})
    content = agent_client.post(reverse("tickets:contact", args=[ticket.pk]), data, headers=HTMX).content.decode()
    assert reverse("contacts:update", args=[other.pk]) in content
    contact.refresh_from_db()
    assert contact.number == "5511987654321"


def test_a_change_made_meanwhile_by_somebody_else_is_not_overwritten(agent_client, ticket, contact):
    data = panel_data(contact, **{"contact-company": "Minha"})
    Contact.objects.get(pk=contact.pk).save()  # somebody else saved it since
    content = agent_client.post(reverse("tickets:contact", args=[ticket.pk]), data, headers=HTMX).content.decode()
    assert "Outra pessoa alterou este contato" in content
    contact.refresh_from_db()
    assert contact.company == ""


def test_without_javascript_the_panel_saves_and_goes_back_to_the_ticket(agent_client, ticket, contact):
    data = panel_data(contact, **{"contact-company": "Padaria Pão Quente"})
    response = agent_client.post(reverse("tickets:contact", args=[ticket.pk]), data, follow=True)
    assert response.redirect_chain[-1][0] == ticket.get_absolute_url()
    assert "Contato “Maria Souza” salvo." in response.content.decode()
    contact.refresh_from_db()
    assert contact.company == "Padaria Pão Quente"


def test_without_javascript_a_refusal_is_shown_on_a_page_of_its_own(agent_client, ticket, contact):
    data = panel_data(contact, **{"contact-email": "não é e-mail"})
    response = agent_client.post(reverse("tickets:contact", args=[ticket.pk]), data)
    content = response.content.decode()
    assert response.status_code == 200 and "<html" in content
    assert "nada foi salvo" in content and f'href="{ticket.get_absolute_url()}"' in content


def test_who_may_only_see_the_contact_gets_its_values_and_no_form(client, ticket, contact):
    reader = UserFactory(username="leitor")
    reader.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_ticket", "view_contact", "view_all_contacts"])
    )
    contact.tags.add(TagFactory(name="VIP"))
    client.force_login(reader)
    content = client.get(ticket.get_absolute_url()).content.decode()
    assert 'id="contact-panel"' in content and 'name="contact-name"' not in content
    assert "Maria Souza" in content and "Recife" in content and "VIP" in content and "Carteira Ana" in content
    response = client.post(reverse("tickets:contact", args=[ticket.pk]), panel_data(contact, **{"contact-name": "X"}))
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.name == "Maria Souza"


def test_another_wallets_agent_gets_404(client, other_agent, other_wallet, ticket, contact):
    client.force_login(other_agent)
    response = client.post(reverse("tickets:contact", args=[ticket.pk]), panel_data(contact, **{"contact-name": "X"}))
    assert response.status_code == 404
    assert client.get(reverse("tickets:contact", args=[ticket.pk])).status_code == 404


def test_an_agent_moves_the_contact_only_to_their_own_wallets(agent_client, ticket, contact, other_wallet):
    data = panel_data(contact, **{"contact-wallet": other_wallet.pk})
    content = agent_client.post(reverse("tickets:contact", args=[ticket.pk]), data, headers=HTMX).content.decode()
    assert "nada foi salvo" in content
    contact.refresh_from_db()
    assert contact.wallet != other_wallet


def test_anonymous_users_are_sent_to_log_in(client, ticket):
    response = client.get(reverse("tickets:contact", args=[ticket.pk]))
    assert response.status_code == 302 and "/login/" in response.url
