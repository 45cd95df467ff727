"""The rules of a contact's fields: for each field, the one function that
turns what a person, a file or a provider wrote into the form it is stored
in, and says what is wrong with it (ValidationError, with a message that
shows the expected form and a code).

The model's clean(), the forms' clean_<field>(), the import's columns and
the duplicate search's canonical readings all call these, so a value is
stored the same way whoever wrote it. The text, phone and document
handling they build on is in normalizers.
"""

import functools
import re
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, validate_email
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import normalizers

#: The fields of a contact that people edit, in the order the panel's form
#: shows them; the import's and export's columns follow it.
CONTACT_FIELDS = [
    "name",
    "number",
    "email",
    "cpf_cnpj",
    "birth_date",
    "first_name",
    "last_name",
    "company",
    "wallet",
    "tags",
    "telegram_id",
    "photo",
]
#: Free text, stored single-spaced.
TEXT_FIELDS = ("name", "first_name", "last_name", "company")
#: Contact.email's length (EmailField's own).
EMAIL_MAX_LENGTH = 254


def text(value: str) -> str:
    """Free text (a name, first or last name, company) as stored: pasted
    invisible marks removed, single spaces."""
    return " ".join(normalizers.clean_text(value or "").split())


first_name = last_name = company = text


def name(value: str) -> str:
    """A contact's name: text() that must not end up empty."""
    value = text(value)
    if not value:
        raise ValidationError(_("Enter a name."), code="required")
    return value


def number(value: str, *, is_group: bool = False) -> str:
    """A phone number in canonical digits ("5511987654321"), from any
    common writing (see normalizers.normalize_phone). A group's number is
    the messaging provider's group id, not a phone: kept as it came."""
    if is_group:
        return value.strip()
    return normalizers.normalize_phone(value)


#: A CPF or CNPJ (numeric or alphanumeric), masked: "529.982.247-25".
cpf_cnpj = normalizers.normalize_document
#: A Telegram id in its one writing: ASCII digits, no leading zeros.
telegram_id = normalizers.normalize_telegram_id


class _EmailValidator(EmailValidator):
    """Django's e-mail check, with its patterns compiled up front (the lazy
    ones cost a proxy call per use) and each domain checked once: an import
    checks a hundred thousand addresses on a handful of domains."""

    user_regex = re.compile(EmailValidator.user_regex.pattern, EmailValidator.user_regex.flags)

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def validate_domain_part(domain_part):
        return validate_email.validate_domain_part(domain_part)


_validate_email = _EmailValidator()


def email(value: str, *, validate: bool = False) -> str:
    """An e-mail as stored: pasted marks removed, lower case. Forms and
    admin check the address in their EmailField (with Django's message);
    a writer without one (the import) asks for `validate`."""
    value = normalizers.clean_code(value or "").strip().lower()
    if validate:
        try:
            _validate_email(value)
        except ValidationError:
            raise ValidationError(_("Enter a valid e-mail address."), code="invalid") from None
        if len(value) > EMAIL_MAX_LENGTH:
            raise ValidationError(_("Enter a valid e-mail address."), code="invalid")
    return value


def birth_date(value: date | None, *, today: date | None = None) -> date | None:
    """A birth date, which cannot be after `today` (the local date unless
    given)."""
    if value and value > (today or timezone.localdate()):
        raise ValidationError(_("The birth date cannot be in the future."), code="future_birth_date")
    return value
