"""The birthday filter ("Aniversário": hoje, próximos 7 dias, próximos 30
dias) in the list and the export, across the year's end and on 29
February, and the cake beside a contact whose birthday is today."""

import io
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from contacts import birthdays
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from jobs.models import Job

pytestmark = pytest.mark.django_db

LIST = reverse("contacts:list")


@pytest.fixture
def today(monkeypatch):
    """Set the office's date."""

    def set_today(day: date):
        monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)

    return set_today


def names(response):
    return sorted(contact.name for contact in response.context["page_obj"].object_list)


def born(name, day):
    return ContactFactory(name=name, birth_date=day)


def test_a_contacts_birthday_is_kept_with_its_birth_date_whoever_writes_it():
    contact = born("Ana", date(1990, 12, 25))
    assert Contact.objects.get(pk=contact.pk).birthday_key == 1225
    contact.birth_date = date(1985, 3, 9)
    contact.save(update_fields=["birth_date"])
    assert Contact.objects.get(pk=contact.pk).birthday_key == 309
    contact.birth_date = None
    contact.save()
    assert Contact.objects.get(pk=contact.pk).birthday_key is None


def test_birthdays_of_the_next_7_days_run_across_the_years_end(admin_client, today):
    today(date(2026, 12, 28))
    born("Dezembro 28", date(1980, 12, 28))
    born("Dezembro 31", date(1991, 12, 31))
    born("Janeiro 3", date(2001, 1, 3))
    born("Janeiro 4", date(2001, 1, 4))
    born("Dezembro 27", date(1970, 12, 27))
    ContactFactory(name="Sem data", birth_date=None)

    assert names(admin_client.get(LIST, {"birthday": "today"})) == ["Dezembro 28"]
    assert names(admin_client.get(LIST, {"birthday": "week"})) == ["Dezembro 28", "Dezembro 31", "Janeiro 3"]
    assert names(admin_client.get(LIST, {"birthday": "month"})) == ["Dezembro 28", "Dezembro 31", "Janeiro 3", "Janeiro 4"]


def test_someone_born_on_29_february_has_a_birthday_on_the_28th_of_a_year_without_one(admin_client, today):
    born("Bissexto", date(1996, 2, 29))
    born("Dia 28", date(1990, 2, 28))
    born("Março 1", date(1990, 3, 1))
    today(date(2027, 2, 28))
    assert names(admin_client.get(LIST, {"birthday": "today"})) == ["Bissexto", "Dia 28"]
    today(date(2028, 2, 28))  # a leap year: the 29th is a day of its own
    assert names(admin_client.get(LIST, {"birthday": "today"})) == ["Dia 28"]
    today(date(2028, 2, 29))
    assert names(admin_client.get(LIST, {"birthday": "today"})) == ["Bissexto"]
    today(date(2027, 2, 27))
    assert names(admin_client.get(LIST, {"birthday": "week"})) == ["Bissexto", "Dia 28", "Março 1"]


def test_the_birthday_filter_is_a_chip_and_an_unknown_value_is_left_out_with_a_note(admin_client, today):
    today(date(2026, 6, 10))
    born("Hoje", date(2000, 6, 10))
    born("Outro dia", date(2000, 8, 1))
    page = admin_client.get(LIST, {"birthday": "today"}).content.decode()
    assert "Aniversário hoje" in page and 'href="?"' in page
    response = admin_client.get(LIST, {"birthday": "tomorrow"})
    assert names(response) == ["Hoje", "Outro dia"]
    assert "O filtro “Aniversário” não foi entendido e foi retirado." in response.content.decode()


def test_the_list_shows_a_cake_beside_a_contact_whose_birthday_is_today(admin_client, today):
    today(date(2026, 6, 10))
    born("Aniversariante", date(2000, 6, 10))
    born("Amanhã", date(2000, 6, 11))
    page = admin_client.get(LIST).content.decode()
    assert page.count("🎂") == 1
    start = page.index('title="Aniversariante"')
    row = page[start : page.index("</tr>", start)]
    assert 'aria-label="Aniversário hoje"' in row


def test_the_export_takes_the_birthday_filter(admin_client, today, django_capture_on_commit_callbacks):
    today(date(2026, 12, 30))
    born("Réveillon", date(1988, 1, 1))
    born("Carnaval", date(1988, 2, 14))
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("contacts:export") + "?birthday=week", {"format": "xlsx"})
    job = Job.objects.get()
    download = admin_client.get(reverse("jobs:file", args=[job.token, "result"]))
    rows = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(download.streaming_content))).get_sheet_by_index(0).to_python()
    assert [row[0] for row in rows[1:]] == ["Réveillon"]


@pytest.mark.parametrize(
    ("window", "day", "expected"),
    [
        ("today", date(2026, 5, 1), {501}),
        ("week", date(2026, 4, 28), {428, 429, 430, 501, 502, 503, 504}),
        ("week", date(2026, 12, 29), {1229, 1230, 1231, 101, 102, 103, 104}),
        ("week", date(2027, 2, 25), {225, 226, 227, 228, 229, 301, 302, 303}),
        ("month", date(2026, 1, 15), set(range(115, 132)) | set(range(201, 214))),
        # 29 February falls on the 28th of a year without it, in every window.
        ("today", date(2027, 2, 28), {228, 229}),
        ("month", date(2027, 2, 10), set(range(210, 230)) | set(range(301, 312))),
        ("month", date(2026, 12, 15), set(range(1215, 1232)) | set(range(101, 114))),
    ],
)
def test_a_window_holds_the_days_of_the_year_it_covers(window, day, expected):
    assert birthdays.keys_within(window, today=day) == expected


@pytest.mark.parametrize("window", list(birthdays.WINDOWS))
def test_the_birthday_filter_reads_its_index_never_the_month_and_day_of_every_birth_date(window):
    from django.db import connection, transaction

    born("Alguém", date(1990, 12, 31))
    queryset = Contact.objects.with_birthday_within(window, today=date(2026, 12, 29)).values("pk")
    sql = str(queryset.query).lower()
    assert "birthday_key" in sql and "birth_date" not in sql and "extract" not in sql and "strftime" not in sql
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # a tiny table: make the planner show whether it could use the index
                cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "contact_birthday_idx" in plan


def test_the_export_command_takes_the_birthday_filter(tmp_path, today, capsys):
    from django.core.management import call_command

    today(date(2026, 3, 1))
    born("Março", date(1975, 3, 5))
    born("Abril", date(1975, 4, 5))
    call_command("export_contacts", str(tmp_path / "aniversarios.csv"), "--birthday", "week")
    assert "Exported 1 contacts" in capsys.readouterr().out
    assert "Março" in (tmp_path / "aniversarios.csv").read_text(encoding="utf-8-sig")


def test_an_import_keeps_the_birthday_of_the_contacts_it_creates_and_updates():
    from contacts.tests.spreadsheet_files import csv_bytes
    from contacts.tests.test_import import run

    born("Existente", date(1990, 1, 1)).__class__.objects.filter(name="Existente").update(number="5511987654321")
    rows = [["Nome", "Celular", "Nascimento"], ["Nova", "11912345678", "25/12/1990"], ["Existente", "11987654321", "09/03/1985"]]
    run(csv_bytes(rows))
    assert dict(Contact.objects.values_list("name", "birthday_key")) == {"Nova": 1225, "Existente": 309}

