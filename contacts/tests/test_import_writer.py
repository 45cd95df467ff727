"""An import on PostgreSQL writes while it plans: a writer thread, with a
connection and a transaction of its own, receives each chunk's new contacts
as soon as the chunk is planned. These tests run outside a test transaction
(the writer's connection could not see inside one) with chunks of two rows,
so that every file here spans several chunks."""

import io
import threading

import pytest
from django.db import IntegrityError, connection, transaction  # noqa: F401 (connection: the skipif condition reads it)

from audit.models import AuditEvent
from audit.recording import Source, recording
from contacts.models import Contact
from contacts.tests.factories import ContactFactory
from contacts.transfer import planning, writing
from contacts.transfer.importing import import_contacts, import_file
from contacts.transfer.reading import read_table
from contacts.tests.spreadsheet_files import csv_bytes

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the import writes while it plans on PostgreSQL only"),
]

HEADER = ["Nome", "Telefone", "E-mail", "Empresa", "Etiquetas", "Cargo"]


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch):
    monkeypatch.setattr(planning, "CHUNK", 2)


@pytest.fixture
def writers(monkeypatch):
    """The writers the imports started, to show the tests take that path."""
    started = []
    real = writing.ConcurrentWriter

    class Writer(real):
        def start(self):
            started.append(self)
            super().start()

    monkeypatch.setattr(writing, "ConcurrentWriter", Writer)
    return started


def run(rows, **options):
    with recording(source=Source.IMPORT, user=options.pop("user", None)):
        return import_file(read=lambda: read_table(io.BytesIO(csv_bytes(rows))), **options)


def no_writer_left():
    return not any(thread.name == "contacts-import-writer" for thread in threading.enumerate())


def test_a_person_whose_rows_fall_in_different_chunks_is_one_contact_as_the_last_row_left_it(writers, admin_user):
    result = run(
        [
            HEADER,
            ["Ana", "11987654321", "ana@exemplo.com", "", "", ""],
            ["Bia", "11912345678", "", "", "", ""],
            ["Caio", "11955554444", "", "", "", ""],
            # Chunks later: Ana again, by her e-mail, with a new number,
            # a company, a tag and an extra field.
            ["Ana Souza", "21987654321", "ana@exemplo.com", "ACME", "VIP", "Gerente"],
        ],
        user=admin_user,
    )
    assert len(writers) == 1 and no_writer_left()
    assert result.counts() == {"rows": 4, "created": 3, "updated": 1, "unchanged": 0, "rejected": 0, "conflicts": 0}
    ana = Contact.objects.get(email="ana@exemplo.com")
    assert (ana.name, ana.number, ana.company) == ("Ana Souza", "5521987654321", "ACME")
    assert list(ana.tags.values_list("name", flat=True)) == ["VIP"]
    assert list(ana.custom_fields.values_list("name", "value")) == [("Cargo", "Gerente")]
    assert not Contact.objects.filter(number="5511987654321").exists()
    # Found by what the last row brought: the search columns were written again.
    assert list(Contact.objects.search("acme gerente")) == [ana]
    assert list(Contact.objects.search("21 98765-4321")) == [ana]
    # One creation in her history, as she ended, by the user who imported.
    record = ana.history.get()
    assert (record.history_type, record.name, record.history_user, record.history_source) == ("+", "Ana Souza", admin_user, Source.IMPORT)
    assert AuditEvent.objects.get(action=AuditEvent.Action.IMPORT).user == admin_user
    assert Contact.objects.count() == 3


def test_a_person_written_with_tags_and_extra_fields_then_changed_by_a_later_row_keeps_one_account_of_each(writers):
    """Her tags, extra fields and their history went in with her chunk,
    while the rest was planned; the later row's are what stays."""
    from contacts.history import tags_history_model
    from contacts.models import CustomField, Tag

    result = run(
        [
            HEADER,
            ["Ana", "11987654321", "ana@exemplo.com", "", "Nova", "Analista"],
            ["Bia", "11912345678", "", "", "Nova", "Analista"],
            ["Caio", "11955554444", "", "", "", ""],
            ["Ana", "11987654321", "ana@exemplo.com", "", "VIP", "Gerente"],
        ]
    )
    assert len(writers) == 1 and no_writer_left()
    assert result.counts() == {"rows": 4, "created": 3, "updated": 1, "unchanged": 0, "rejected": 0, "conflicts": 0}
    assert Tag.objects.filter(name__iexact="nova").count() == 1
    ana, bia = Contact.objects.get(name="Ana"), Contact.objects.get(name="Bia")
    assert sorted(ana.tags.values_list("name", flat=True)) == ["Nova", "VIP"]
    assert list(ana.custom_fields.values_list("name", "value")) == [("Cargo", "Gerente")]
    record = ana.history.get()
    assert sorted(record.tags.values_list("tag__name", flat=True)) == ["Nova", "VIP"]
    assert list(CustomField.history.filter(contact_id=ana.pk).values_list("history_type", "value")) == [("+", "Gerente")]
    # Bia, written once while the plan went on, is untouched by Ana's rewrite.
    assert list(bia.custom_fields.values_list("value", flat=True)) == ["Analista"]
    assert list(bia.history.get().tags.values_list("tag__name", flat=True)) == ["Nova"]
    assert CustomField.history.filter(contact_id=bia.pk).count() == 1
    assert tags_history_model().objects.count() == 3 and Contact.tags.through.objects.count() == 3


def test_importing_the_same_file_again_through_the_writer_changes_nothing(writers):
    rows = [HEADER, *([f"Pessoa {i}", f"1198765{i:04d}", f"p{i}@exemplo.com", "ACME", "VIP", "x"] for i in range(7))]
    assert run(rows).counts()["created"] == 7
    again = run(rows)
    assert again.counts() == {"rows": 7, "created": 0, "updated": 0, "unchanged": 7, "rejected": 0, "conflicts": 0}
    assert len(writers) == 2
    assert Contact.objects.count() == 7 and Contact.history.count() == 7


def test_an_import_that_fails_while_planning_writes_nothing_and_leaves_no_writer(writers, monkeypatch):
    sent = []
    real_send = planning.Planner._send_new

    def send(self):
        sent.append(len(self._unsent))
        real_send(self)

    real_clean = planning.RowCleaner._clean_values

    def clean(self, row, raw):
        if row.number == 6:
            raise RuntimeError("the disk is full")
        return real_clean(self, row, raw)

    monkeypatch.setattr(planning.Planner, "_send_new", send)
    monkeypatch.setattr(planning.RowCleaner, "_clean_values", clean)
    rows = [HEADER, *([f"Pessoa {i}", f"1198765{i:04d}", "", "", "", ""] for i in range(6))]
    with pytest.raises(RuntimeError):
        run(rows)
    assert sent == [2, 2]  # two chunks had gone to the writer
    assert no_writer_left()
    assert not Contact.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_contact_saved_elsewhere_while_the_import_runs_is_updated_not_duplicated(writers, monkeypatch):
    """A sync or an inbound message saves a number the import planned to
    create: the writer's insert fails, nothing is left half-written, and
    the import, planned again, updates that contact."""
    real_send = planning.Planner._send_new

    def send(self):
        if len(writers) == 1 and self.result.rows == 2:
            # Another connection saves Bia (committed) after the import
            # looked for her and before her row is written.
            thread = threading.Thread(target=lambda: ContactFactory(name="Bia (WhatsApp)", number="5511912345678"))
            thread.start()
            thread.join()
        real_send(self)

    monkeypatch.setattr(planning.Planner, "_send_new", send)
    result = run([HEADER, ["Ana", "11987654321", "", "", "", ""], ["Bia", "11912345678", "", "ACME", "", ""], ["Caio", "11955554444", "", "", "", ""]])
    assert len(writers) == 2 and no_writer_left()
    assert result.counts() == {"rows": 3, "created": 2, "updated": 1, "unchanged": 0, "rejected": 0, "conflicts": 0}
    assert Contact.objects.count() == 3
    bia = Contact.objects.get(number="5511912345678")
    assert (bia.name, bia.company) == ("Bia", "ACME")
    assert AuditEvent.objects.filter(action=AuditEvent.Action.IMPORT).count() == 1


def test_an_import_that_keeps_failing_to_write_says_why_and_writes_nothing(writers, monkeypatch):
    def fail(self, batch):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(writing.database.Inserter, "write", fail)
    with pytest.raises(IntegrityError):
        run([HEADER, *([f"Pessoa {i}", f"1198765{i:04d}", "", "", "", ""] for i in range(5))])
    assert len(writers) == 3 and no_writer_left()  # tried three times
    assert not Contact.objects.exists()


def test_an_import_inside_a_callers_transaction_is_part_of_it(writers):
    rows = [HEADER, ["Ana", "11987654321", "", "", "", ""], ["Bia", "11912345678", "", "", "", ""], ["Caio", "11955554444", "", "", "", ""]]
    with pytest.raises(RuntimeError), transaction.atomic():
        with recording(source=Source.IMPORT):
            assert import_contacts(table=read_table(io.BytesIO(csv_bytes(rows)))).created == 3
        assert Contact.objects.count() == 3
        raise RuntimeError("the caller changed its mind")
    assert writers == []
    assert not Contact.objects.exists()


def test_two_imports_creating_the_same_new_tags_in_opposite_orders_both_finish(writers, monkeypatch):
    """Each writer creates a file's new tag when the first chunk that has it
    is written, and holds it until its import commits: A holds "Xtag" and
    needs "Ytag" while B holds "Ytag" and needs "Xtag". PostgreSQL undoes
    one of them (a deadlock); that import runs again and uses the tags the
    other created."""
    from contacts.models import Tag

    barrier = threading.Barrier(2)
    met = []
    real = writing.PlanWriter._create_tags

    def create(self, planned):
        real(self, planned)
        if self._tag_ids and len(met) < 2 and self not in met:
            met.append(self)
            barrier.wait(timeout=20)  # both writers hold their first new tag

    monkeypatch.setattr(writing.PlanWriter, "_create_tags", create)
    a = [HEADER, ["A1", "11911110001", "", "", "Xtag", ""], ["A2", "11911110002", "", "", "", ""], ["A3", "11911110003", "", "", "Ytag", ""]]
    b = [HEADER, ["B1", "11922220001", "", "", "Ytag", ""], ["B2", "11922220002", "", "", "", ""], ["B3", "11922220003", "", "", "Xtag", ""]]
    results, errors = [], []

    def import_(rows):
        try:
            results.append(run(rows).counts()["created"])
        except Exception as error:  # noqa: BLE001 (shown by the assertion)
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=import_, args=(rows,)) for rows in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == [3, 3]
    assert len(writers) == 3  # one import ran twice
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["Xtag", "Ytag"]
    tags_of = {contact.name: sorted(tag.name for tag in contact.tags.all()) for contact in Contact.objects.prefetch_related("tags")}
    assert tags_of == {"A1": ["Xtag"], "A2": [], "A3": ["Ytag"], "B1": ["Ytag"], "B2": [], "B3": ["Xtag"]}
