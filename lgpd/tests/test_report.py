"""The data subject's report: the "LGPD" tab on a contact, its JSON download
and readable page, and `manage.py lgpd_report`; for administrators only."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.recording import Source, recording
from contacts.models import ContactIdentity, CustomField, OptOut
from contacts.tests.factories import ContactFactory, TagFactory
from dedup.merging import contacts_merge
from tickets.models import Channel, Message, MessageEdit, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(db):
    """A contact with something of every kind: a tag, an extra field, a
    LID, a ticket with an edited message, an opt-out, a contact merged into it."""
    channel = Channel.objects.create(kind="whatsapp", name="WhatsApp Vendas", webhook_secret="s" * 32)
    contact = ContactFactory(name="Lucélia Prado", number="5521987650000", email="lucelia@exemplo.com", tags=[TagFactory(name="VIP")])
    other = ContactFactory(name="Lucélia P.", number="", email="lucelia@exemplo.com")
    CustomField.objects.create(contact=contact, name="Cidade", value="Niterói")
    ContactIdentity.objects.create(contact=contact, kind="lid", value="111222333444555@lid", number=contact.number, seen="message")
    ticket = Ticket.objects.create(contact=contact, channel=channel)
    message = Message.objects.create(
        channel=channel, external_id="A1", chat_id="5521987650000@s.whatsapp.net", chat_identity=contact.number,
        sender_id="5521987650000", sender_name="Lu Prado", body="Quero o boleto", sent_at=timezone.now(), ticket=ticket, contact=contact,
    )
    MessageEdit.objects.create(message=message, body="Quero a fatura", replaced_at=timezone.now())
    OptOut.objects.create(contact=contact, channel_id=channel.pk, channel_name=channel.name, evidence="SAIR", asked_at=timezone.now())
    with recording(source=Source.PANEL):
        contacts_merge(groups=[[contact.pk, other.pk]], rules=[["email"]])
    contact.refresh_from_db()
    return contact


def test_the_json_report_holds_every_kind_of_trace(admin_client, person):
    admin_client.post(reverse("contacts:optout_lift", args=[person.opt_outs.get().pk]), {"note": "pediu de volta"})
    response = admin_client.get(reverse("lgpd:report_json", args=[person.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="relatorio-lgpd-contato-{person.pk}.json"'
    report = json.loads(response.content)
    assert report["contact"]["name"] == "Lucélia Prado" and report["contact"]["email"] == "lucelia@exemplo.com"
    assert report["tags"] == ["VIP"]
    assert report["extra_fields"] == [{"name": "Cidade", "value": "Niterói"}]
    assert [identity["value"] for identity in report["identities"]] == ["111222333444555@lid"]
    assert (report["opt_outs"][0]["message"], report["opt_outs"][0]["lift_note"]) == ("SAIR", "pediu de volta")
    [ticket] = report["tickets"]
    [message] = ticket["messages"]
    assert (message["text"], message["sender_name"]) == ("Quero o boleto", "Lu Prado")
    assert message["earlier_versions"][0]["text"] == "Quero a fatura"
    [merge] = report["merges"]
    assert merge["merged"][0]["name"] == "Lucélia P."
    assert report["merged_contact_ids"] == [merge["merged"][0]["contact_id"]]
    assert report["history"], "the contact's history records"
    assert [event["action"] for event in report["audit"]] == ["optout_lift"]


def test_the_readable_page_shows_the_same_report_with_a_print_button(admin_client, person):
    page = admin_client.get(reverse("lgpd:report", args=[person.pk])).content.decode()

    assert "Relatório LGPD: Lucélia Prado" in page
    assert "Quero o boleto" in page and "Até" in page and "Quero a fatura" in page
    assert "Niterói" in page and "111222333444555@lid" in page
    assert "Imprimir ou salvar em PDF" in page


def test_the_readable_page_names_actions_sources_and_fields_as_the_panel_does(admin_client, person):
    admin_client.post(reverse("contacts:optout_lift", args=[person.opt_outs.get().pk]), {"note": "pediu de volta"})

    page = admin_client.get(reverse("lgpd:report", args=[person.pk])).content.decode()

    assert "descadastro retirado" in page and "optout_lift" not in page
    assert "nome: Lucélia Prado" in page and "name: " not in page


def test_the_contact_has_an_lgpd_tab_with_the_report_links_for_administrators(admin_client, person):
    form = admin_client.get(reverse("contacts:update", args=[person.pk])).content.decode()
    assert reverse("lgpd:contact", args=[person.pk]) in form

    tab = admin_client.get(reverse("lgpd:contact", args=[person.pk]), headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in tab
    assert reverse("lgpd:report_json", args=[person.pk]) in tab and "Relatório LGPD (JSON)" in tab


def test_each_report_is_recorded_in_the_audit_trail_with_no_personal_data(admin_client, admin_user, person):
    admin_client.get(reverse("lgpd:report_json", args=[person.pk]))

    event = AuditEvent.objects.get(action="lgpd_request")
    assert (event.user, event.parameters) == (admin_user, {"request": "report", "contact": person.pk, "format": "json"})


def test_agents_get_403_and_see_no_lgpd_tab(agent_client, agent_wallet):
    contact = ContactFactory(wallet=agent_wallet)

    for name in ("lgpd:contact", "lgpd:report_json", "lgpd:report", "lgpd:erase"):
        assert agent_client.get(reverse(name, args=[contact.pk])).status_code == 403, name
    assert reverse("lgpd:contact", args=[contact.pk]) not in agent_client.get(reverse("contacts:update", args=[contact.pk])).content.decode()
    assert not AuditEvent.objects.exists()


def test_a_user_with_the_permission_gets_404_for_a_contact_they_may_not_see(agent_client, agent, other_wallet):
    agent.user_permissions.add(Permission.objects.get(codename="report_personal_data"))
    contact = ContactFactory(wallet=other_wallet)

    assert agent_client.get(reverse("lgpd:report_json", args=[contact.pk])).status_code == 404
    assert agent_client.get(reverse("lgpd:report_json", args=[999999])).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, person):
    response = client.get(reverse("lgpd:report_json", args=[person.pk]))
    assert response.status_code == 302 and "/login/" in response.url


def test_the_command_writes_the_same_json(tmp_path, person, capsys):
    path = tmp_path / "relatorio.json"
    call_command("lgpd_report", str(person.pk), str(path))

    assert f"written to {path}" in capsys.readouterr().out
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["contact_id"] == person.pk and report["contact"]["name"] == "Lucélia Prado"
    assert AuditEvent.objects.get(action="lgpd_request").source == "command"


def test_the_command_refuses_an_unknown_contact_or_a_path_it_cannot_write(tmp_path, person):
    with pytest.raises(CommandError, match="No contact 999999"):
        call_command("lgpd_report", "999999", str(tmp_path / "x.json"))
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("lgpd_report", str(person.pk), str(tmp_path / "missing" / "x.json"))
    assert not AuditEvent.objects.filter(action="lgpd_request").exists()
