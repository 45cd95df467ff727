import re
from datetime import date, datetime

from django import template
from django.utils import formats

from audit.models import AuditEvent
from audit.recording import Source
from bulk.models import Action as BulkAction
from contacts.models import Contact
from jobs.models import Job

register = template.Library()

#: The report keeps the codes (its JSON is read by programs); the page
#: shows what each code is called in the panel.
_CHOICES = {"audit_action": AuditEvent.Action, "bulk_action": BulkAction, "job_kind": Job.Kind, "source": Source}

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}")


@register.filter
def when(value):
    """A report's ISO date or time as the page shows dates ("05/12/2026 20:55")."""
    if not isinstance(value, str) or not _ISO.match(value):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return value
    if len(value) == 10:
        return formats.date_format(date.fromisoformat(value), "SHORT_DATE_FORMAT")
    return formats.date_format(parsed, "SHORT_DATETIME_FORMAT")


@register.filter
def label(code, choices: str):
    """A report's code as the panel names it ("lgpd_request" -> "Pedido LGPD");
    the code itself when it is not one of `choices` (an action since removed)."""
    try:
        return _CHOICES[choices](code).label
    except ValueError:
        return code


@register.filter
def field_label(name):
    """A contact field's name in a history record as its form labels it."""
    try:
        return Contact._meta.get_field(name).verbose_name
    except Exception:  # FieldDoesNotExist, or a history-only column
        return name
