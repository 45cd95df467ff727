"""The data subject's report (LGPD art. 18, II): everything we hold about a
person, as one JSON document. The readable page shows the same document."""

import json
from datetime import date, datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from contacts import normalizers

from .traces import Traces

#: The version of the document's layout, for machines that read it.
FORMAT = 1

CONTACT_FIELDS = ("name", "first_name", "last_name", "number", "email", "cpf_cnpj", "birth_date", "company", "telegram_id", "is_group")


def _when(value):
    return timezone.localtime(value).isoformat() if isinstance(value, datetime) else value


def _user(user) -> str:
    return user.get_username() if user is not None else ""


def build_report(traces: Traces) -> dict:
    """The report of `traces`' person, as plain JSON values."""
    contact = traces.contact
    fields = {name: _plain(getattr(contact, name)) for name in CONTACT_FIELDS}
    fields["number_formatted"] = contact.formatted_number
    fields["wallet"] = contact.wallet.name if contact.wallet_id else ""
    fields["created_at"] = _when(contact.created_at)
    fields["updated_at"] = _when(contact.updated_at)
    messages = list(traces.messages.select_related("media"))
    edits: dict[int, list] = {}
    for edit in traces.message_edits:
        edits.setdefault(edit.message_id, []).append({"text": edit.body, "kind": edit.kind, "replaced_at": _when(edit.replaced_at)})
    by_ticket: dict[int | None, list] = {}
    for message in messages:
        by_ticket.setdefault(message.ticket_id, []).append(_message(message, edits.get(message.pk, [])))
    tickets = [
        {
            "id": ticket.pk,
            "channel": ticket.channel.name,
            "channel_kind": ticket.channel.kind,
            "status": ticket.status,
            "agent": _user(ticket.user),
            "created_at": _when(ticket.created_at),
            "closed_at": _when(ticket.closed_at),
            "messages": by_ticket.pop(ticket.pk, []),
        }
        for ticket in traces.tickets
    ]
    return {
        "format": FORMAT,
        "generated_at": _when(timezone.now()),
        "contact_id": contact.pk,
        "merged_contact_ids": traces.contact_ids[1:],
        "contact": fields,
        "photo": bool(contact.photo),
        "tags": list(contact.tags.order_by("name").values_list("name", flat=True)),
        "extra_fields": [{"name": extra.name, "value": extra.value} for extra in traces.custom_fields],
        "identities": [
            {
                "kind": identity.kind,
                "value": identity.display_value,
                "number": normalizers.format_phone(identity.number) if identity.number else "",
                "seen": identity.seen,
                "place": identity.place,
                "seen_at": _when(identity.seen_at),
            }
            for identity in traces.identities
        ],
        "opt_outs": [
            {
                "channel": opt_out.channel_name,
                "message": opt_out.evidence,
                "asked_at": _when(opt_out.asked_at),
                "lifted_at": _when(opt_out.lifted_at),
                "lifted_by": opt_out.lifted_by_name,
                "lift_note": opt_out.lift_note,
            }
            for opt_out in traces.opt_outs
        ],
        "opt_out_reasons": [
            {"ticket": reason.ticket_id, "by": reason.username, "reason": reason.reason, "at": _when(reason.created_at)}
            for reason in traces.opt_out_reasons
        ],
        "history": [_history(record, CONTACT_FIELDS + ("photo",)) for record in traces.contact_history.select_related("history_user")],
        "extra_field_history": [_history(record, ("name", "value")) for record in traces.custom_field_history.select_related("history_user")],
        "opt_out_history": [
            _history(record, ("channel_name", "evidence", "lifted_at", "lifted_by_name", "lift_note"))
            for record in traces.opt_out_history.select_related("history_user")
        ],
        "tickets": tickets,
        "other_messages": [m for ticket_messages in by_ticket.values() for m in ticket_messages],
        "merges": [
            {
                "id": record.pk,
                "at": _when(record.created_at),
                "by": record.username,
                "through": record.source,
                "kept": record.survivor_name,
                "undone_at": _when(record.undone_at),
                "merged": [
                    {"contact_id": merged.contact_id, "name": merged.name, "snapshot": merged.snapshot}
                    for merged in record.contacts.all()
                ],
            }
            for record in traces.merge_records.prefetch_related("contacts")
        ],
        "audit": [
            {"id": event.pk, "at": _when(event.created_at), "by": event.username, "action": event.action, "parameters": event.parameters}
            for event in traces.audit_events
        ],
        "admin_log": [
            {"at": _when(entry.action_time), "object": entry.object_repr, "change": entry.get_change_message()}
            for entry in traces.admin_log
        ],
        "jobs_with_files": [
            {"job": f.job.pk, "kind": f.job.kind, "created_at": _when(f.job.created_at), "file": f.field, "file_name": f.name.rsplit("/", 1)[-1]}
            for f in traces.stored_files
        ],
        "jobs_mentioning": [{"job": job.pk, "kind": job.kind, "created_at": _when(job.created_at)} for job in traces.jobs_mentioning],
        "bulk_actions": [
            {"job": job.pk, "action": job.parameters.get("action", ""), "created_at": _when(job.created_at), "by": _user(job.user)}
            for job in traces.bulk_jobs.select_related("user")
        ],
        "saved_searches": [{"id": segment.pk, "name": segment.name} for segment in traces.segments],
    }


def _message(message, edits: list) -> dict:
    media = getattr(message, "media", None) if hasattr(message, "media") else None
    return {
        "id": message.pk,
        "sent_at": _when(message.sent_at),
        "from_me": message.from_me,
        "sender_name": message.sender_name,
        "sender_id": message.sender_id,
        "chat": message.chat_id,
        "kind": message.kind,
        "text": message.body,
        "details": message.details,
        "edited_at": _when(message.edited_at),
        "earlier_versions": edits,
        "media": (
            {"kind": media.kind, "file_name": media.file_name, "content_type": media.content_type, "size": media.size, "status": media.status}
            if media is not None
            else None
        ),
    }


def _history(record, names) -> dict:
    return {
        "at": _when(record.history_date),
        "type": record.history_type,
        "by": _user(record.history_user),
        "through": record.history_source,
        "values": {name: _plain(getattr(record, name, None)) for name in names},
    }


def _plain(value):
    if isinstance(value, datetime):
        return _when(value)
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "name") and hasattr(value, "storage"):  # a stored file
        return value.name or ""
    return value


def report_json(traces: Traces) -> str:
    return json.dumps(build_report(traces), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
