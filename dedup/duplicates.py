"""Remover duplicados: find the contacts that are one person (or one
group) and merge each set into its oldest contact, losing nothing.

Two contacts are duplicates when they share an identity, recomputed from
what is stored rather than trusted:
- the canonical number (9th digit included: "551187654321", written
  before numbers were normalised, is "5511987654321"), a WhatsApp LID the
  conversations link to a number, or an address a contact merged away left
  to its survivor (ContactIdentity);
- the canonical Telegram id, or one left by a merge;
- the CPF/CNPJ, with or without its punctuation;
- the e-mail, case aside.
Groups are transitive (A~B by number, B~C by e-mail: one group); people
never meet groups. The survivor is the oldest contact (created_at, then id).

This module holds those canonical readings, shared by both phases:
- finding (dedup/finding.py, find_duplicates): the groups, who survives
  and what would move; reads only;
- merging (dedup/merging/, contacts_merge): per batch of groups, one
  transaction, so a group is never half-merged; it plans (locks the
  contacts in id order and reads them again, following contacts merged
  away meanwhile to their survivor), moves (tickets and messages through
  tickets.merging, tags, extra fields, aliases), records (a MergeRecord
  with a snapshot of every contact merged, the audit event) and writes
  (the survivors' new values, the others' deletion, history). Two merges
  over overlapping groups end as if they ran one after the other; a
  deadlock or serialization failure the database reports anyway is retried.
"""

import re

from django.core.exceptions import ValidationError

from contacts import normalizers, rules

# Stored writings that are their own canonical form, checked by the
# database: a number of 12 to 15 digits with its country code (what
# normalize_phone() writes), except a Brazilian mobile of 8 digits, which
# gains its 9th; a Telegram id without leading zeros; a masked CPF or CNPJ.
# Every other non-blank value is normalised again in Python.
CANONICAL_NUMBER = r"^[1-9][0-9]{11,14}$"
OLD_BRAZILIAN_MOBILE = r"^55[1-9][0-9][6-9][0-9]{7}$"
CANONICAL_GROUP_ID = r"^[0-9]+(-[0-9]+)?$"
CANONICAL_TELEGRAM_ID = r"^-?[1-9][0-9]{0,18}$"
_CANONICAL_NUMBER, _OLD_BRAZILIAN_MOBILE = re.compile(CANONICAL_NUMBER), re.compile(OLD_BRAZILIAN_MOBILE)
CANONICAL_DOCUMENT = r"^([0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}|[0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}/[0-9A-Z]{4}-[0-9]{2})$"


def canonical_number(raw: str, *, is_group: bool = False) -> str:
    """A stored number in its canonical writing. Stored numbers carry their
    country code ("5511987654321"); older rows may not ("11987654321"), may
    lack the 9th digit or be punctuated. A value no reading accepts is
    compared by its digits."""
    raw = normalizers.clean_code(raw or "").strip()
    if not raw or is_group:
        return raw
    if _CANONICAL_NUMBER.match(raw) and not _OLD_BRAZILIAN_MOBILE.match(raw):
        return raw  # what rules.number() writes: the database trusts it too
    try:
        # As the forms read a number: 10 or 11 digits are a Brazilian number
        # without its country code first, longer ones carry theirs.
        return rules.number(raw)
    except ValidationError:
        return normalizers.only_digits(raw)


def canonical_telegram_id(raw: str) -> str:
    try:
        return rules.telegram_id(raw)
    except ValidationError:
        return normalizers.clean_code(raw or "").strip()


def canonical_document(raw: str) -> str:
    try:
        return rules.cpf_cnpj(raw)
    except ValidationError:
        return "".join(ch for ch in normalizers.clean_code(raw or "").upper() if ch.isalnum())


def canonical_email(raw: str) -> str:
    return rules.email(raw)


CANONICAL = {
    "telegram_id": canonical_telegram_id,
    "cpf_cnpj": canonical_document,
    "email": canonical_email,
}
