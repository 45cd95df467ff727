"""The erasure of a person's data (LGPD art. 18, VI), everywhere traces.py
finds it. What stays is what the business may keep: the contact's row as
an anonymous placeholder ("Contato apagado #12") holding its tickets, with
when they were opened and closed, on which channel, and which agent served
them; the messages' times, kinds and who of us sent ours, without a word
of their text; and one audit entry saying that an erasure happened, by
whom and when."""

import io
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils.translation import gettext, override

from audit.models import AuditEvent
from audit.services import audit_record
from contacts.models import Contact, ContactIdentity, MergeRecord
from jobs.models import Job
from tickets.media import media_delete
from tickets.models import Message, MessageEdit, MessageMedia

from .traces import Needles, StoredFile, Traces, _csv_cells, _lines, traces_of, xlsx_rows

logger = logging.getLogger(__name__)

#: What a text that named the person reads after the erasure.
PLACEHOLDER = "[LGPD]"


@dataclass
class Erasure:
    """What an erasure removed (or, before it, would remove), by kind."""

    contact_id: int
    counts: dict[str, int] = field(default_factory=dict)


def erasure_counts(traces: Traces) -> dict[str, int]:
    """What an erasure of `traces`' person removes or rewrites, by kind:
    what the confirmation page and `lgpd_erase` without --confirm say."""
    contact = traces.contact
    counts = {
        "contacts": len(traces.contact_ids),
        "tags": contact.tags.count(),
        "extra_fields": traces.custom_fields.count(),
        "identities": traces.identities.count(),
        "photos": len(traces.photo_files),
        "history_records": traces.contact_history.count() + traces.custom_field_history.count() + traces.opt_out_history.count(),
        "messages": traces.messages.count(),
        "message_edits": traces.message_edits.count(),
        "media": traces.media.count(),
        "opt_outs": traces.opt_outs.count(),
        "merges": traces.merge_records.count(),
        "audit_entries": len(traces.audit_events),
        "admin_log_entries": traces.admin_log.count(),
        "files": len(traces.stored_files),
        "jobs": len(traces.jobs_mentioning),
        "tasks": len(traces.task_results),
        "saved_searches": len(traces.segments),
    }
    counts["tickets_kept"] = traces.tickets.count()
    return counts


def erased_name(contact_id: int) -> str:
    """The placeholder's name: the same for everyone, whatever the
    language of who erased it, and unique, so no duplicate search joins two."""
    with override(settings.LANGUAGE_CODE):
        return gettext("Erased contact #%(id)s") % {"id": contact_id}


def was_erased(contact: Contact) -> bool:
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.LGPD_REQUEST, parameters__request="erasure", parameters__contact=contact.pk
    ).exists()


@transaction.atomic
def personal_data_erase(*, contact: Contact, user=None) -> Erasure:
    """Erase the person `contact` is (and every contact merged into it),
    in one transaction: their fields, tags, extra fields, identities,
    opt-outs, every history record of these, their merges and snapshots,
    the text, senders and files of their messages, what the audit trail,
    admin's log, jobs, tasks and saved searches say of them. Once it
    commits, the stored files of jobs are rewritten without their rows and
    the photo and media files removed (a rolled-back erasure keeps them).
    Returns what was removed."""
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    traces = traces_of(contact)
    needles = traces.needles
    counts = erasure_counts(traces)
    ids = traces.contact_ids

    # Files go once the rows that name them are gone for good.
    photos = traces.photo_files
    rewrites = [(stored, _without_person(stored, needles)) for stored in traces.stored_files]
    storage = Contact._meta.get_field("photo").storage

    # Admin's log first: it is found by the ids of rows removed below.
    traces.admin_log.delete()

    # Conversations: the facts stay, the words go.
    message_ids = list(traces.messages.values_list("pk", flat=True))
    media_delete(media=MessageMedia.objects.filter(message_id__in=message_ids))
    MessageEdit.objects.filter(message_id__in=message_ids).delete()

    Message.objects.filter(pk__in=message_ids).update(
        body="",
        sender_name="",
        sender_id="",
        chat_id="",
        chat_identity="",
        details=None,
        error="",
        # A Telegram message's id holds its chat's id.
        external_id=Concat(Value("erased:"), Cast("id", CharField())),
    )
    Message.objects.filter(pk__in=message_ids, is_group=False).update(group_name="")

    # Opt-outs (with the agents' reasons), identities, extra fields, merges.
    traces.opt_out_reasons.delete()
    opt_out_history = traces.opt_out_history
    traces.opt_outs.delete()
    opt_out_history.delete()
    ContactIdentity.objects.filter(pk__in=list(traces.identities.values_list("pk", flat=True))).delete()
    custom_field_history = traces.custom_field_history
    traces.custom_fields.delete()
    custom_field_history.delete()
    traces.merged_contacts.delete()
    MergeRecord.objects.filter(survivor_id__in=ids).delete()

    # The contact: its tags, fields and history.
    Contact.tags.through.objects.filter(contact_id__in=ids).delete()
    traces.tag_history.delete()
    traces.contact_history.delete()
    placeholder = Contact(pk=contact.pk, name=erased_name(contact.pk), is_group=contact.is_group)
    placeholder.refresh_search_fields(extra_values=[])
    Contact.objects.filter(pk=contact.pk).update(
        name=placeholder.name,
        first_name="",
        last_name="",
        number="",
        email="",
        cpf_cnpj="",
        birth_date=None,
        company="",
        telegram_id="",
        photo="",
        name_key=placeholder.name_key,
        search_text=placeholder.search_text,
        birthday_key=None,
    )

    # Where others' records mention the person.
    for event in traces.audit_events:
        AuditEvent.objects.filter(pk=event.pk).update(parameters=_scrub_audit(event.parameters, needles, set(ids)))
    for job in traces.jobs_mentioning:
        Job.objects.filter(pk=job.pk).update(
            parameters=needles.scrub(job.parameters, PLACEHOLDER),
            result=needles.scrub(job.result, PLACEHOLDER),
            error=needles.scrub(job.error, PLACEHOLDER),
            error_detail=needles.scrub(job.error_detail, PLACEHOLDER),
            file_name=needles.scrub(job.file_name, PLACEHOLDER),
        )
    for task in traces.task_results:
        type(task).objects.filter(pk=task.pk).update(
            args_kwargs=needles.scrub(task.args_kwargs, PLACEHOLDER),
            return_value=needles.scrub(task.return_value, PLACEHOLDER),
            traceback=needles.scrub(task.traceback, PLACEHOLDER),
        )
    for segment in traces.segments:
        segment.filters = {key: value for key, value in segment.filters.items() if not needles.found_in({key: value})}
        segment.labels = needles.scrub(segment.labels, PLACEHOLDER)
        segment.save(update_fields=["filters", "labels"])

    audit_record(
        action=AuditEvent.Action.LGPD_REQUEST,
        parameters={"request": "erasure", "contact": contact.pk},
        counts={key: value for key, value in counts.items() if value},
        user=user,
    )

    def remove_files():
        # One file that will not go does not keep the others.
        for name in photos:
            try:
                storage.delete(name)
            except OSError:
                logger.exception("Photo %s could not be deleted", name)
        for stored, data in rewrites:
            try:
                _replace(stored, data)
            except OSError:
                logger.exception("Job file %s could not be rewritten", stored.name)

    transaction.on_commit(remove_files)
    return Erasure(contact_id=contact.pk, counts=counts)


def _scrub_audit(parameters, needles: Needles, ids: set[int]):
    """An audit entry's parameters without the person: a contact of theirs
    listed by id and name keeps its id only."""
    if isinstance(parameters, dict) and isinstance(parameters.get("contacts"), list):
        parameters = {
            **parameters,
            "contacts": [
                {**item, "name": PLACEHOLDER} if isinstance(item, dict) and item.get("id") in ids and "name" in item else item
                for item in parameters["contacts"]
            ],
        }
    return needles.scrub(parameters, PLACEHOLDER)


def _without_person(stored: StoredFile, needles: Needles) -> bytes | None:
    """The stored file's bytes without the person's rows, or None when it
    cannot be rewritten (then it is removed)."""
    file = getattr(stored.job, stored.field)
    with file.storage.open(file.name, "rb") as handle:
        data = handle.read()
    if data.startswith(b"PK"):
        try:
            return _xlsx_without(data, needles)
        except Exception:
            return None
    lines, encoding = _lines(data)
    kept = [line for line in lines if not needles.found_in(line) and not needles.row_holds(_csv_cells(line))]
    return "".join(kept).encode(encoding)


def _xlsx_without(data: bytes, needles: Needles) -> bytes:
    import xlsxwriter

    from contacts.transfer.exporting import XLSX_TEXT_ONLY

    output = io.BytesIO()
    book = xlsxwriter.Workbook(output, {"constant_memory": True, "in_memory": True, **XLSX_TEXT_ONLY})
    sheets = {}
    rows_written = {}
    for title, row in xlsx_rows(data):
        if title not in sheets:
            sheets[title] = book.add_worksheet(title[:31])
            rows_written[title] = 0
        if needles.row_holds(row):
            continue
        sheet = sheets[title]
        for column, value in enumerate(row):
            if value is not None:
                sheet.write(rows_written[title], column, value)
        rows_written[title] += 1
    if not sheets:
        book.add_worksheet()
    book.close()
    return output.getvalue()


def _replace(stored: StoredFile, data: bytes | None) -> None:
    """Store the rewritten file beside the old one, point the job at it and
    remove the old one (or only remove it, when it could not be rewritten)."""
    file = getattr(stored.job, stored.field)
    storage, name = file.storage, file.name
    saved = storage.save(name, ContentFile(data)) if data is not None else ""
    Job.objects.filter(pk=stored.job.pk).update(**{stored.field: saved})
    storage.delete(name)
