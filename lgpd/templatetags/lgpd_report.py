import re
from datetime import date, datetime

from django import template
from django.utils import formats

register = template.Library()

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
