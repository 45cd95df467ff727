"""The addresses WhatsApp knows a person by: a phone number, and a LID
("<digits>@lid", which WhatsApp uses instead of the number it hides).

Every pair of them the gateway reveals, in any event and in any order, is
remembered (ContactIdentity, kind "lid", with its number), and the
contacts they name become one: the LID's contact takes the number, the
number's contact takes the LID, and when both are contacts already they
are merged by the merge of "Remover duplicados", which the duplicate
removal app lends this one (merge_with) because it sits above it.
"""

from collections.abc import Callable, Iterable
from functools import cache

from django.db import IntegrityError, connection
from django.utils import timezone

from contacts.models import Contact, ContactIdentity, unique_value
from contacts_portal import database

LID = ContactIdentity.Kind.LID
Merge = Callable[[list[int]], None]
_merge: Merge | None = None


def merge_with(merge: Merge) -> None:
    """Contacts found to be one person are merged by `merge` (their ids)."""
    global _merge
    _merge = merge


def lid_known(lid: str) -> tuple[int | None, str] | None:
    """(contact id, number) of a LID, either may be empty; None when the LID
    was never seen. Written out in SQL: every message addressed by LID
    asks it."""
    table = connection.ops.quote_name(ContactIdentity._meta.db_table)
    with database.hot_cursor() as cursor:
        cursor.execute(f"SELECT contact_id, number FROM {table} WHERE kind = %s AND value = %s", [LID, lid])
        return cursor.fetchone()


def pairs_reveal(*, pairs: Iterable[tuple[str, str]], seen: str, place: str = "") -> None:
    """Remember each (LID, phone) pair (see pair_reveal); a pair known
    already, with its contact, costs one look-up."""
    for lid, phone in dict(pairs).items():
        known = lid_known(lid)
        if known is None or known[1] != phone or known[0] is None:
            pair_reveal(lid=lid, phone=phone, seen=seen, place=place)


def pair_reveal(*, lid: str, phone: str, seen: str, place: str = "") -> None:
    """Remember that `lid` stands for `phone`, and make their contacts one:
    the LID's contact takes the number (or, when it has another one, keeps
    it as an identity), the number's contact takes the LID, and two
    contacts are merged into the older one. Safe to repeat and to run
    concurrently: the LID's row is locked while it is decided, and a
    contact that took the number meanwhile makes it decide again."""
    merge = database.retrying(
        lambda: _pair(lid=lid, phone=phone, seen=seen, place=place), on=IntegrityError, atomic=True
    )
    if merge and _merge is not None:
        _merge(merge)


def _pair(*, lid: str, phone: str, seen: str, place: str) -> list[int] | None:
    """One attempt, in a transaction: the contacts to merge, if any."""
    row, _created = ContactIdentity.objects.select_for_update().get_or_create(
        kind=LID, value=lid, defaults={"number": phone, "seen": seen, "place": place[:100]}
    )
    holder = number_holder(phone)
    row.number = phone
    merge = None
    if row.contact_id is None:
        row.contact_id = holder
    elif holder is None:
        _give_number(row.contact_id, phone, seen=seen, place=place)
    elif holder != row.contact_id:
        merge = [row.contact_id, holder]
    row.save(update_fields=["number", "contact"])
    return merge


def same_person(first: str, second: str) -> bool:
    """Whether two senders as messages name them (a phone number, or a
    "…@lid" address when the number was not sent) are one person: the
    same, or a LID whose number the gateway revealed, or whose contact has
    it, beside that number. A message that came by LID alone and its
    edit that came with the number are one sender's."""
    if first == second:
        return True
    lids = [user for user, _, server in (sender.partition("@") for sender in (first, second)) if server == "lid"]
    phones = [sender for sender in (first, second) if sender.isdigit()]
    if len(lids) != 1 or len(phones) != 1:
        return False
    known = lid_known(lids[0])
    if known is None:
        return False
    contact_id, number = known
    if number == phones[0]:
        return True
    return contact_id is not None and Contact.objects.filter(pk=contact_id, number=phones[0]).exists()


def number_holder(phone: str) -> int | None:
    """The contact with this number, or that a merge left it to."""
    holder = Contact.objects.filter(unique_value("number", phone)).values_list("pk", flat=True).order_by("pk").first()
    if holder is None:
        holder = (
            ContactIdentity.objects.filter(kind=ContactIdentity.Kind.NUMBER, value=phone)
            .values_list("contact_id", flat=True)
            .first()
        )
    return holder


def _give_number(contact_id: int, phone: str, *, seen: str, place: str) -> None:
    """The LID's contact learns its number: into its number field when
    blank (its history says so), else as one more identity."""
    contact = Contact.objects.select_for_update().filter(pk=contact_id).first()
    if contact is None:
        return
    if not contact.number:
        contact.number = phone
        contact.save(update_fields=["number"])
    elif contact.number != phone:
        ContactIdentity.objects.get_or_create(
            kind=ContactIdentity.Kind.NUMBER,
            value=phone,
            defaults={"contact_id": contact_id, "seen": seen, "place": place[:100], "seen_at": timezone.now()},
        )


@cache
def _claim_sql() -> str:
    quote = connection.ops.quote_name
    table = quote(ContactIdentity._meta.db_table)
    # Taken when new, or when remembered without a contact; left alone (and
    # nothing returned) when another contact has it.
    return (
        f"INSERT INTO {table} (contact_id, kind, value, number, seen, place, seen_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (kind, value) DO UPDATE SET contact_id = excluded.contact_id, "
        f"number = CASE WHEN excluded.number = '' THEN {table}.number ELSE excluded.number END "
        f"WHERE {table}.contact_id IS NULL RETURNING id"
    )


def lid_claim(*, contact_id: int, lid: str, phone: str = "", seen: str, place: str = "") -> bool:
    """Give the contact the LID, new or remembered without a contact, in one
    statement: False when another contact has it."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(_claim_sql(), [contact_id, LID, lid, phone, seen, place[:100], now])
        return cursor.fetchone() is not None


def lid_attach(*, contact_id: int, lid: str, phone: str = "", seen: str, place: str = "") -> None:
    """A new contact made for a LID's message takes the LID (lid_claim).
    Raises IntegrityError when another contact took it meanwhile: the
    caller's transaction is then undone and tried again, and finds that
    contact."""
    if not lid_claim(contact_id=contact_id, lid=lid, phone=phone, seen=seen, place=place):
        raise IntegrityError(f"the LID {lid} is another contact's")
