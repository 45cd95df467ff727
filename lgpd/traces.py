"""Everything we hold about one person, wherever it is: the contact and what
hangs from it (tags, extra fields, identities, opt-outs, tickets, messages
and their edits and media), the history of each, the contacts merged into
it and their snapshots, and the places that only mention the person (the
audit trail, Django admin's log, jobs and their stored files, task
results, saved searches), found by the person's identifiers (Needles).

The report (report.py) reads it, the erasure (erasure.py) removes it: one
list of places for both, so that nothing the report shows is left behind
and nothing the erasure forgets is hidden from the report."""

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from django.apps import apps
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from audit.models import AuditEvent
from bulk.models import Member
from contacts import normalizers
from contacts.models import Contact, ContactIdentity, CustomField, MergedContact, MergeRecord, OptOut, Segment
from jobs.files import FILE_FIELDS
from jobs.models import Job
from tickets.models import Message, MessageEdit, MessageMedia, OptOutReason, Ticket

#: Digits written with the separators people put in numbers and documents.
_DIGIT_RUN = re.compile(r"\d(?:[\s().\-/+]{0,2}\d)*")
#: A name shorter than this, or of one word shorter than NAME_ONE_WORD, is
#: not looked for in free text: "Ana" would be found in every "Ana".
NAME_MIN = 4
NAME_ONE_WORD = 8
#: The parameter that holds what someone typed in a search box.
SEARCH_KEY = "q"
#: Digits shorter than this are not an identifier worth looking for.
DIGITS_MIN = 6


def _national(number: str) -> str:
    """A canonical number's digits as people write them in Brazil, without
    the country code ("11987654321"); other countries' as stored."""
    digits = normalizers.only_digits(number)
    if digits.startswith("55") and len(digits) in (12, 13):
        return digits[2:]
    return digits


@dataclass
class Needles:
    """The person's identifiers, and whether a text holds one: a number,
    a CPF/CNPJ, a Telegram id or a LID in any writing (its digits, with or
    without separators and country code), an e-mail, or the name (accents
    and case aside, as whole words)."""

    names: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    #: Found inside a longer run of digits (numbers with a country code).
    digits: set[str] = field(default_factory=set)
    #: Found as a whole run of digits (Telegram ids: short).
    exact_digits: set[str] = field(default_factory=set)

    def add_contact_values(self, *, name="", first_name="", last_name="", email="", number="", cpf_cnpj="", telegram_id="") -> None:
        for each in (name, f"{first_name} {last_name}"):
            folded = normalizers.fold(each or "")
            if len(folded) >= NAME_MIN and (" " in folded or len(folded) >= NAME_ONE_WORD) and not folded.startswith("+"):
                self.names.add(folded)
            elif folded.startswith("+"):  # a contact named by its number
                self.add_number(folded)
        if email:
            self.emails.add(email.strip().lower())
        self.add_number(number)
        document = normalizers.only_digits(cpf_cnpj or "")
        if len(document) >= DIGITS_MIN:
            self.digits.add(document)
        telegram = normalizers.only_digits(telegram_id or "")
        if telegram:
            self.exact_digits.add(telegram)

    def add_number(self, number: str) -> None:
        national = _national(number or "")
        if len(national) >= DIGITS_MIN:
            self.digits.add(national)

    def add_address(self, value: str) -> None:
        """A chat or sender address: "5511987654321@s.whatsapp.net", a LID
        "123…@lid", a Telegram chat id."""
        digits = normalizers.only_digits((value or "").partition("@")[0].partition(":")[0])
        if "@" in (value or "") and len(digits) >= DIGITS_MIN:
            self.digits.add(_national(digits))
        elif digits:
            self.exact_digits.add(digits)

    @cached_property
    def _name_pattern(self):
        if not self.names:
            return None
        return re.compile("|".join(rf"(?<!\w){re.escape(name)}(?!\w)" for name in sorted(self.names, key=len, reverse=True)))

    def is_search_for(self, query) -> bool:
        """Whether a search box's text (a list's, an export's "q") was a
        search for the person: a part of their name ("xandrina")."""
        if not isinstance(query, str):
            return False
        folded = normalizers.fold(query)
        return len(folded) >= 3 and any(folded in name for name in self.names) or self.found_in(query)

    def found_in(self, text) -> bool:
        """Whether `text` (any value; JSON is looked into) holds the person."""
        if text is None or isinstance(text, bool | int | float):
            return False
        if isinstance(text, dict):
            return any(
                self.is_search_for(value) if key == SEARCH_KEY else self.found_in(key) or self.found_in(value)
                for key, value in text.items()
            )
        if isinstance(text, list | tuple):
            return any(self.found_in(item) for item in text)
        if not isinstance(text, str):
            text = str(text)
        if not text:
            return False
        lowered = text.lower()
        if any(email in lowered for email in self.emails):
            return True
        if self.digits or self.exact_digits:
            for run in _DIGIT_RUN.findall(text):
                digits = normalizers.only_digits(run)
                if digits in self.exact_digits or any(needle in digits for needle in self.digits):
                    return True
        pattern = self._name_pattern
        return pattern is not None and bool(pattern.search(normalizers.fold(text)))

    def row_holds(self, cells: Iterable) -> bool:
        """Whether a spreadsheet row (or a line) is the person's: one of
        its cells holds an identifier, or is the name."""
        return any(self.found_in(cell) for cell in cells if cell not in (None, ""))

    def scrub(self, value, placeholder: str):
        """`value` (JSON) without the person: a list that is a row of the
        person's is left out of its list, a text that holds them becomes
        `placeholder`; numbers, ids and the rest stay."""
        if isinstance(value, dict):
            return {
                key: (placeholder if key == SEARCH_KEY and self.is_search_for(item) else self.scrub(item, placeholder))
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.scrub(item, placeholder) for item in value if not (isinstance(item, list) and self.found_in(item))]
        if isinstance(value, str) and self.found_in(value):
            return placeholder
        return value


@dataclass
class StoredFile:
    """A job's stored file that holds rows of the person."""

    job: Job
    field: str  # source_file, result_file, report_file

    @property
    def name(self) -> str:
        return getattr(self.job, self.field).name


def _lines(data: bytes) -> tuple[list[str], str]:
    for encoding in ("utf-8-sig", "utf-16", "cp1252"):
        try:
            if encoding == "utf-16" and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
                continue
            return data.decode(encoding).splitlines(keepends=True), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1").splitlines(keepends=True), "latin-1"


def xlsx_rows(data: bytes) -> Iterator[tuple[str, list]]:
    """Every row of every sheet of an .xlsx: (sheet title, values)."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for sheet in book.worksheets:
            for row in sheet.iter_rows(values_only=True):
                yield sheet.title, list(row)
    finally:
        book.close()


def file_holds(data: bytes, needles: Needles) -> bool:
    """Whether a stored file (an .xlsx, a .csv, a preview's lines) holds a
    row of the person. A zip that is not a readable workbook is looked
    into part by part."""
    if data.startswith(b"PK"):
        try:
            return any(needles.row_holds(row) for _title, row in xlsx_rows(data))
        except Exception:  # not a workbook we can read: its parts, as text
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return any(needles.found_in(archive.read(name).decode("utf-8", "replace")) for name in archive.namelist())
    lines, _encoding = _lines(data)
    return any(needles.found_in(line) for line in lines)


def _csv_cells(line: str) -> list[str]:
    return next(csv.reader([line], delimiter=";" if line.count(";") >= line.count(",") else ","), [])


@dataclass
class Traces:
    """Where the person is. Querysets, read when asked."""

    contact: Contact
    #: The contact and every contact merged into it (merges not undone),
    #: whose history and snapshots are the same person's.
    contact_ids: list[int]
    needles: Needles

    # The contact's own.

    @property
    def custom_fields(self) -> QuerySet:
        return CustomField.objects.filter(contact_id__in=self.contact_ids).order_by("id")

    @property
    def identities(self) -> QuerySet:
        """Its identities, and any other row that remembers one of its
        addresses (a LID whose number is the person's, kept before the
        contact existed)."""
        numbers = [n for n in (self.contact.number,) if n]
        values = list(ContactIdentity.objects.filter(contact_id__in=self.contact_ids).values_list("value", flat=True))
        numbers += list(ContactIdentity.objects.filter(contact_id__in=self.contact_ids).exclude(number="").values_list("number", flat=True))
        telegram = [t for t in (self.contact.telegram_id,) if t]
        condition = Q(contact_id__in=self.contact_ids) | Q(value__in=values + numbers + telegram) | Q(number__in=numbers + values)
        return ContactIdentity.objects.filter(condition).order_by("kind", "seen_at", "id")

    @property
    def opt_outs(self) -> QuerySet:
        return OptOut.objects.filter(contact_id__in=self.contact_ids).order_by("asked_at", "id")

    @property
    def opt_out_reasons(self) -> QuerySet:
        return OptOutReason.objects.filter(opt_out__contact_id__in=self.contact_ids).select_related("ticket").order_by("created_at", "id")

    # History (simple-history).

    @property
    def contact_history(self) -> QuerySet:
        return Contact.history.filter(id__in=self.contact_ids).order_by("history_date", "history_id")

    @property
    def tag_history(self) -> QuerySet:
        through = apps.get_model("contacts", "HistoricalContact_tags")
        return through.objects.filter(history__id__in=self.contact_ids)

    @property
    def custom_field_history(self) -> QuerySet:
        return CustomField.history.filter(contact_id__in=self.contact_ids).order_by("history_date", "history_id")

    @property
    def opt_out_history(self) -> QuerySet:
        return OptOut.history.filter(contact_id__in=self.contact_ids).order_by("history_date", "history_id")

    # Conversations.

    @property
    def tickets(self) -> QuerySet:
        return Ticket.objects.filter(contact_id__in=self.contact_ids).select_related("channel", "user").order_by("created_at", "id")

    @property
    def messages(self) -> QuerySet:
        """The messages of its conversations, and those it sent elsewhere
        (in a group, or before anyone made it a contact) from one of its
        addresses."""
        addresses = self._addresses()
        condition = Q(contact_id__in=self.contact_ids) | Q(ticket__contact_id__in=self.contact_ids)
        if addresses:
            condition |= Q(chat_identity__in=addresses) | Q(chat_id__in=addresses) | Q(sender_id__in=addresses)
        return Message.objects.filter(condition).select_related("channel").order_by("sent_at", "id")

    def _addresses(self) -> list[str]:
        """Its addresses as messages store them: the canonical number and
        Telegram id (chat_identity), the WhatsApp JIDs and LIDs (chat_id,
        sender_id)."""
        found = set()
        numbers = {self.contact.number} | set(
            self.identities.filter(kind=ContactIdentity.Kind.NUMBER).values_list("value", flat=True)
        )
        numbers |= set(self.identities.exclude(number="").values_list("number", flat=True))
        for number in filter(None, numbers):
            found |= {number, f"{number}@s.whatsapp.net", f"{number}@c.us"}
        for telegram in filter(None, {self.contact.telegram_id, *self.identities.filter(kind=ContactIdentity.Kind.TELEGRAM_ID).values_list("value", flat=True)}):
            found.add(telegram)
        for lid in self.identities.filter(kind=ContactIdentity.Kind.LID).values_list("value", flat=True):
            found |= {lid, lid if lid.endswith("@lid") else f"{lid}@lid"}
        return sorted(found)

    @property
    def message_edits(self) -> QuerySet:
        return MessageEdit.objects.filter(message__in=self.messages.values("pk")).order_by("replaced_at", "id")

    @property
    def media(self) -> QuerySet:
        return MessageMedia.objects.filter(message__in=self.messages.values("pk")).order_by("id")

    # Merges.

    @property
    def merge_records(self) -> QuerySet:
        """The merges it took part in: as the contact kept, or merged."""
        merged_in = MergedContact.objects.filter(contact_id__in=self.contact_ids).values("record_id")
        return MergeRecord.objects.filter(Q(survivor_id__in=self.contact_ids) | Q(pk__in=merged_in)).order_by("created_at", "id")

    @property
    def merged_contacts(self) -> QuerySet:
        """The snapshots that hold it: of the contacts merged into it (undone
        merges too: their snapshots were its merge's), and its own."""
        return MergedContact.objects.filter(Q(contact_id__in=self.contact_ids) | Q(record__survivor_id__in=self.contact_ids)).order_by("id")

    # Mentions elsewhere.

    @property
    def audit_events(self) -> list[AuditEvent]:
        """The audit entries that name it: by id (contact, survivor,
        contacts) or by an identifier in their parameters."""
        ids = set(self.contact_ids)
        return [
            event
            for event in AuditEvent.objects.order_by("created_at", "id").iterator(chunk_size=2000)
            if _names_id(event.parameters, ids) or self.needles.found_in(event.parameters)
        ]

    @property
    def admin_log(self) -> QuerySet:
        """Django admin's log of its objects, and entries whose words name it."""
        condition = Q()
        for model, ids in (
            (Contact, self.contact_ids),
            (CustomField, list(self.custom_fields.values_list("pk", flat=True))),
            (OptOut, list(self.opt_outs.values_list("pk", flat=True))),
            (ContactIdentity, list(self.identities.values_list("pk", flat=True))),
            (Ticket, list(self.tickets.values_list("pk", flat=True))),
        ):
            if ids:
                condition |= Q(content_type=ContentType.objects.get_for_model(model), object_id__in=[str(pk) for pk in ids])
        for name in self.needles.names | self.needles.emails:
            condition |= Q(object_repr__icontains=name) | Q(change_message__icontains=name)
        if not condition:
            return LogEntry.objects.none()
        entries = LogEntry.objects.filter(condition).values_list("pk", flat=True)
        by_words = [e.pk for e in LogEntry.objects.only("object_repr", "change_message") if self.needles.found_in(f"{e.object_repr} {e.change_message}")]
        return LogEntry.objects.filter(Q(pk__in=list(entries)) | Q(pk__in=by_words)).order_by("action_time", "id")

    @property
    def bulk_jobs(self) -> QuerySet:
        """The bulk actions that worked on it."""
        return Job.objects.filter(pk__in=Member.objects.filter(contact_id__in=self.contact_ids).values("job_id")).order_by("created_at", "id")

    @cached_property
    def stored_files(self) -> list[StoredFile]:
        """The jobs' stored files (uploaded spreadsheets, exports, error
        reports, previews) that hold a row of the person, read through
        the storage API."""
        found = []
        jobs = Job.objects.exclude(source_file="", result_file="", report_file="").order_by("created_at", "id")
        for job in jobs.iterator(chunk_size=500):
            for name in FILE_FIELDS:
                file = getattr(job, name)
                if not file or not file.storage.exists(file.name):
                    continue
                with file.storage.open(file.name, "rb") as handle:
                    data = handle.read()
                if file_holds(data, self.needles):
                    found.append(StoredFile(job=job, field=name))
        return found

    @property
    def jobs_mentioning(self) -> list[Job]:
        """Jobs whose parameters, results or errors name the person (an
        import's conflicts and rejected rows, an export's search)."""
        columns = ("parameters", "result", "error", "error_detail", "file_name")
        return [
            job
            for job in Job.objects.order_by("created_at", "id").iterator(chunk_size=2000)
            if any(self.needles.found_in(getattr(job, column)) for column in columns)
        ]

    @property
    def task_results(self) -> list:
        """Background task rows (django-tasks-db) whose arguments, results
        or tracebacks name the person."""
        model = apps.get_model("django_tasks_database", "DBTaskResult")
        return [
            task
            for task in model.objects.order_by("enqueued_at").iterator(chunk_size=2000)
            if any(self.needles.found_in(getattr(task, column)) for column in ("args_kwargs", "return_value", "traceback"))
        ]

    @property
    def segments(self) -> list[Segment]:
        """Saved searches whose search is the person."""
        return [s for s in Segment.objects.order_by("id") if self.needles.found_in(s.filters) or self.needles.found_in(s.labels)]

    @property
    def photo_files(self) -> list[str]:
        """The stored photo names: the current one and any the history
        still names."""
        names = {self.contact.photo.name} if self.contact.photo else set()
        names |= set(self.contact_history.exclude(photo="").values_list("photo", flat=True))
        return sorted(names)


def _names_id(parameters, ids: set[int]) -> bool:
    """Whether an audit entry's parameters name one of `ids` as a contact."""
    if not isinstance(parameters, dict):
        return False
    for key in ("contact", "survivor"):
        if parameters.get(key) in ids:
            return True
    for item in parameters.get("contacts") or []:
        if (item.get("id") if isinstance(item, dict) else item) in ids:
            return True
    return False


def subject_ids(contact: Contact) -> list[int]:
    """The contact and, through the merges (not undone) that kept it, every
    contact merged into it, and into those, and so on."""
    ids = [contact.pk]
    frontier = [contact.pk]
    while frontier:
        merged = list(
            MergedContact.objects.filter(record__survivor_id__in=frontier, record__undone_at__isnull=True)
            .exclude(contact_id__in=ids)
            .values_list("contact_id", flat=True)
        )
        ids += merged
        frontier = merged
    return ids


def traces_of(contact: Contact) -> Traces:
    """Where `contact`'s person is held."""
    ids = subject_ids(contact)
    needles = Needles()
    needles.add_contact_values(
        name=contact.name,
        first_name=contact.first_name,
        last_name=contact.last_name,
        email=contact.email,
        number=contact.number,
        cpf_cnpj=contact.cpf_cnpj,
        telegram_id=contact.telegram_id,
    )
    # What it was called before (its history) and what the contacts merged
    # into it were.
    for record in Contact.history.filter(id__in=ids).values("name", "first_name", "last_name", "email", "number", "cpf_cnpj", "telegram_id"):
        needles.add_contact_values(**record)
    for snapshot in MergedContact.objects.filter(contact_id__in=ids).values_list("snapshot", flat=True):
        fields = snapshot.get("fields", snapshot) if isinstance(snapshot, dict) else {}
        needles.add_contact_values(**{k: fields.get(k) or "" for k in ("name", "first_name", "last_name", "email", "number", "cpf_cnpj", "telegram_id")})
    for identity in ContactIdentity.objects.filter(contact_id__in=ids):
        if identity.kind == ContactIdentity.Kind.NUMBER:
            needles.add_number(identity.value)
        else:
            needles.add_address(identity.value if identity.kind == ContactIdentity.Kind.TELEGRAM_ID else f"{identity.value.removesuffix('@lid')}@lid")
        needles.add_number(identity.number)
    return Traces(contact=contact, contact_ids=ids, needles=needles)
