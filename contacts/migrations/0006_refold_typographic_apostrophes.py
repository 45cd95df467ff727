"""fold() now reads typographic apostrophes as the plain one and drops
invisible marks: refresh the derived search columns of the rows that hold
any, so stored and searched text fold alike."""

from functools import reduce
from operator import or_

from django.db import migrations
from django.db.models import Q

CHARACTERS = "’‘´`ʼ′‛\u00ad\u200b\u200e\u200f\u2060\ufeff\u00a0\u202f"
FIELDS = ["name", "first_name", "last_name", "company"]


def refold(apps, schema_editor):
    from contacts.normalizers import fold

    Contact = apps.get_model("contacts", "Contact")
    condition = reduce(or_, (Q(**{f"{field}__contains": ch}) for field in FIELDS for ch in CHARACTERS))
    batch = []
    for contact in Contact.objects.filter(condition).iterator(chunk_size=2000):
        # As Contact.refresh_search_fields() computes them.
        contact.name_key = fold(contact.name)[:200]
        contact.search_text = " | ".join(
            part
            for part in (
                contact.name_key,
                fold(f"{contact.first_name} {contact.last_name}"),
                fold(contact.company),
                contact.email.lower(),
            )
            if part
        )
        batch.append(contact)
        if len(batch) == 2000:
            Contact.objects.bulk_update(batch, ["name_key", "search_text"])
            batch = []
    Contact.objects.bulk_update(batch, ["name_key", "search_text"])


class Migration(migrations.Migration):
    dependencies = [("contacts", "0005_history_roles_telegram_ids")]

    operations = [migrations.RunPython(refold, migrations.RunPython.noop)]
