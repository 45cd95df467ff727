"""The proof that an erasure erases: a person who went through every path
the panel has (the form and its edits, an import with a rejected row, two
exports, a merge, messages with an edit and a file, an opt-out lifted with
a note, Django admin) is erased, and then every column of every table in
the database and every stored file (unzipped) is read for their name,
number, CPF, e-mail, Telegram id and the words of their messages: none is
found. What the business keeps is still there."""

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from audit.models import AuditEvent
from audit.recording import Source, recording
from contacts import normalizers
from contacts.models import Contact, ContactIdentity, OptOut
from contacts.tests.factories import ContactFactory
from contacts.tests.spreadsheet_files import csv_bytes, upload
from dedup.merging import contacts_merge
from jobs.models import Job
from tickets.models import Channel, Message, MessageMedia, Ticket
from tickets.tests import payloads

pytestmark = pytest.mark.django_db(transaction=False)

SECRET = "whatsapp-instance-key-0123456789"
NAME = "Xandrina Quilombo Vasconcelos"
NUMBER = "5581991234567"
JID = f"{NUMBER}@s.whatsapp.net"
LID = "209876543210987@lid"
CPF = "529.982.247-25"
EMAIL = "xandrina.vasc@exemplo.com.br"
TELEGRAM = "707142536"

#: Folded words that only this person's data holds.
WORDS = ["xandrina", "quilombo", "xandi", "pistache", "caramelizado", "crocante", "zirconio", "quixeramobim", "tangerina", "xandrina.vasc@exemplo"]
#: Digits that only this person's data holds, looked for with the
#: separators people write taken out.
DIGITS = ["91234567", "52998224725", TELEGRAM, "209876543210987"]


def png():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "#25d366").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "foto.png"
    return buffer


def form_data(**overrides):
    data = {
        "name": NAME,
        "number": "(81) 99123-4567",
        "email": EMAIL.upper(),
        "cpf_cnpj": CPF,
        "birth_date": "14/03/1987",
        "first_name": "Xandrina",
        "last_name": "Vasconcelos",
        "company": "Doceria Pistache",
        "wallet": "",
        "telegram_id": TELEGRAM,
        "custom_fields-TOTAL_FORMS": "1",
        "custom_fields-INITIAL_FORMS": "0",
        "custom_fields-MIN_NUM_FORMS": "0",
        "custom_fields-MAX_NUM_FORMS": "50",
        "custom_fields-0-name": "Plano",
        "custom_fields-0-value": "Zircônio",
    }
    return {**data, **overrides}


def webhook(client, channel, body):
    response = client.post(reverse("tickets:webhook", args=[channel.pk]), json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.content


def import_through_the_panel(client, content, name, capture):
    client.post(reverse("contacts:import"), {"file": upload(content, name)})
    job = Job.objects.latest("pk")
    form = client.get(job.get_absolute_url()).context["form"]
    data = {f"column_{i}": form[f"column_{i}"].initial for i in range(len(form.headers))}
    with capture(execute=True):
        client.post(job.get_absolute_url(), data)
    with capture(execute=True):
        client.post(reverse("contacts:import_confirm", args=[job.token]))
    return Job.objects.latest("pk")


def export_through_the_panel(client, capture, **params):
    fmt = params.pop("format")
    with capture(execute=True):
        client.post(reverse("contacts:export") + "?" + "&".join(f"{k}={v}" for k, v in params.items()), {"format": fmt})
    return Job.objects.latest("pk")


def everyone_through_every_path(client, admin_user, capture) -> tuple[Contact, Channel]:
    """The person, as the panel came to hold them; returns the contact to
    erase (the one the merge kept) and the channel."""
    channel = Channel.objects.create(kind="whatsapp", name="WhatsApp Vendas", address="+55 11 90000-0000", webhook_secret=SECRET)
    ContactFactory(name="Bento Ferraz", number="5511933332222", email="bento@exemplo.com")
    # An older contact of the same person, with only an e-mail: the merge keeps it.
    kept = ContactFactory(name="X. Quilombo Vasconcelos", number="", email=EMAIL, cpf_cnpj="", telegram_id="")
    # The form, with a photo, then an edit.
    assert client.post(reverse("contacts:create"), {**form_data(), "photo": png()}).status_code in (200, 302)
    merged = Contact.objects.get(number=NUMBER)
    assert merged.photo
    page = client.get(reverse("contacts:update", args=[merged.pk]))
    version = page.context["form"].initial["version"]
    extra = merged.custom_fields.get()
    response = client.post(
        reverse("contacts:update", args=[merged.pk]),
        form_data(
            company="Doceria Caramelizado",
            version=version,
            **{
                "custom_fields-INITIAL_FORMS": "1",
                "custom_fields-0-id": str(extra.pk),
                "custom_fields-0-value": "Zircônio Plus",
            },
        ),
    )
    assert response.status_code in (200, 302)
    # An import: the person's row (a new extra field) beside someone else's,
    # and a rejected row of theirs that goes to the error report.
    content = csv_bytes(
        [
            ["Nome", "Telefone", "E-mail", "CPF", "Cidade"],
            [NAME, "+55 81 99123-4567", EMAIL, CPF, "Quixeramobim"],
            ["Bento Ferraz", "+55 11 93333-2222", "bento@exemplo.com", "", "Recife"],
            ["Xandrina Q. V.", "81 99123-45", EMAIL, "111.111.111-11", "Quixeramobim"],
        ]
    )
    imported = import_through_the_panel(client, content, "lista.csv", capture)
    assert imported.status == Job.Status.DONE, imported.error
    assert imported.source_file and imported.report_file
    # Messages: one edited, one with a photo; an opt-out, lifted with a note.
    webhook(client, channel, payloads.upsert(SECRET, remote_jid=JID, push_name="Xandi Quilombo", text="Quero pistache crocante", message_id="3EB0LGPD0001"))
    webhook(client, channel, payloads.edited(SECRET, "3EB0LGPD0001", "Quero pistache caramelizado"))
    webhook(client, channel, payloads.upsert(SECRET, remote_jid=JID, push_name="Xandi Quilombo", text="SAIR", message_id="3EB0LGPD0002"))
    message = Message.objects.get(external_id="3EB0LGPD0001")
    assert message.edits.exists()
    MessageMedia.objects.create(
        message=message,
        kind="image",
        file=ContentFile(b"\xff\xd8 pistache crocante", name="x.jpg"),
        file_name="xandrina-pistache.jpg",
        source={"key": {"remoteJid": JID}},
        status="stored",
    )
    opt_out = OptOut.objects.get()
    client.post(reverse("contacts:optout_lift", args=[opt_out.pk]), {"note": "Xandrina pediu de volta, tangerina"})
    ContactIdentity.objects.create(contact=merged, kind="lid", value=LID, number=NUMBER, seen="message")
    # A task a worker ran and failed on, its traceback quoting the row.
    apps.get_model("django_tasks_database", "DBTaskResult").objects.create(
        status="FAILED", enqueued_at=timezone.now(), run_after=timezone.now(), args_kwargs={"args": [], "kwargs": {"job_id": 1}},
        task_path="jobs.tasks.run_job", backend_name="default", exception_class_path="ValueError",
        traceback=f"ValueError: bad row ['{NAME}', '{EMAIL}']", return_value=None,
    )
    # Two exports: one by a search for the name, one of everybody.
    assert export_through_the_panel(client, capture, q="xandrina", format="xlsx").result_file
    assert export_through_the_panel(client, capture, format="csv").result_file
    # The merge: the older contact keeps everything.
    with recording(source=Source.PANEL, user=admin_user):
        contacts_merge(groups=[[kept.pk, merged.pk]], rules=[["email"]])
    kept.refresh_from_db()
    assert kept.number == NUMBER and not Contact.objects.filter(pk=merged.pk).exists()
    assert Ticket.objects.filter(contact=kept).exists()
    return kept, channel


def texts_in_database():
    """("table.column", text) for every value of every column of every
    table, read with plain SQL: models or not, history and tasks too."""
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value).decode("utf-8", "replace")
                    elif not isinstance(value, str):
                        value = json.dumps(value, default=str, ensure_ascii=False)
                    yield f"{table}.{column}", value


def texts_in_files():
    """(path, text) for every stored file, every part of a zip (.xlsx)."""
    for path in Path(settings.MEDIA_ROOT).rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if data.startswith(b"PK"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for part in archive.namelist():
                    yield f"{path}!{part}", archive.read(part).decode("utf-8", "replace")
        else:
            for encoding in ("utf-8-sig", "cp1252"):
                try:
                    yield str(path), data.decode(encoding)
                    break
                except UnicodeDecodeError:
                    continue


_SEPARATORS = re.compile(r"[\s().+/-]")


def hits(texts) -> list[str]:
    found = []
    for where, text in texts:
        folded = normalizers.fold(text)
        digits = _SEPARATORS.sub("", text)
        found += [f"{where}: {word}" for word in WORDS if word in folded]
        found += [f"{where}: {number}" for number in DIGITS if number in digits]
    return found


@pytest.fixture
def own_media(settings, tmp_path):
    """A storage folder of the test's own: every file in it is this test's."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_after_an_erasure_no_table_column_or_stored_file_holds_the_person(
    own_media, admin_client, admin_user, django_capture_on_commit_callbacks
):
    contact, channel = everyone_through_every_path(admin_client, admin_user, django_capture_on_commit_callbacks)
    # The person is everywhere before: the scan finds them (it can fail).
    before = hits(texts_in_database())
    assert any("contacts_historicalcontact" in hit for hit in before)
    assert any("tickets_message" in hit for hit in before)
    assert any("contacts_mergedcontact" in hit for hit in before)
    assert any("django_tasks_database_dbtaskresult" in hit for hit in before)
    assert any(".xlsx" in hit for hit in hits(texts_in_files())) and any(".csv" in hit for hit in hits(texts_in_files()))
    tickets = list(Ticket.objects.filter(contact=contact).values_list("pk", "channel_id", "created_at"))
    messages = Message.objects.filter(ticket__contact=contact).count()

    page = admin_client.get(reverse("lgpd:erase", args=[contact.pk]))
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("lgpd:erase", args=[contact.pk]), {"confirmation": "x. QUILOMBO vasconcelos"})
    assert response.status_code == 302, response.content.decode()[:2000]

    assert hits(texts_in_database()) == []
    assert hits(texts_in_files()) == []

    # What the business keeps: the tickets, when, on which channel; the
    # messages' count and times; someone else's rows in the stored files.
    contact.refresh_from_db()
    assert contact.name == f"Contato apagado #{contact.pk}"
    assert list(Ticket.objects.filter(contact=contact).values_list("pk", "channel_id", "created_at")) == tickets
    assert Message.objects.filter(ticket__contact=contact).count() == messages
    files = "\n".join(text for _path, text in texts_in_files())
    assert "Bento Ferraz" in files and "bento@exemplo.com" in files
    event = AuditEvent.objects.get(action="lgpd_request", parameters__request="erasure")
    assert (event.user, event.parameters) == (admin_user, {"request": "erasure", "contact": contact.pk})

    # The conversations still open, without a word of them.
    for ticket_id, _channel, _created in tickets:
        page = admin_client.get(reverse("tickets:detail", args=[ticket_id]))
        assert page.status_code == 200 and "pistache" not in page.content.decode()

    # A later message from the erased number starts afresh.
    webhook(admin_client, channel, payloads.upsert(SECRET, remote_jid=JID, push_name="Alguém", text="Oi", message_id="3EB0LGPD0003"))
    later = Message.objects.get(external_id="3EB0LGPD0003")
    assert later.contact_id != contact.pk and (later.ticket is None or later.ticket.contact_id != contact.pk)
    assert not ContactIdentity.objects.filter(contact=contact).exists()
    assert Ticket.objects.filter(contact=contact).count() == len(tickets)
