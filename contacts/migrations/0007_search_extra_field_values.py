"""search_text now holds the values of the extra fields ("Adicionar
Informação"), so that a search finds them: refresh the rows of the contacts
that have any (the others do not change).

The contacts are read in id batches through the extra fields' contact index
and written with one bulk UPDATE per batch: about 150,000 of a million demo
contacts have extra fields, rewritten in about 40 s on PostgreSQL (3 s for
100,000 on SQLite). Going back drops the values again.
"""

from collections import defaultdict

from django.db import migrations

BATCH_SIZE = 2000


def refresh(apps, with_extra_values: bool):
    from contacts.normalizers import fold

    Contact = apps.get_model("contacts", "Contact")
    CustomField = apps.get_model("contacts", "CustomField")
    owners = CustomField.objects.order_by("contact_id").values_list("contact_id", flat=True).distinct()
    last = 0
    while ids := list(owners.filter(contact_id__gt=last)[:BATCH_SIZE]):
        values = defaultdict(list)
        if with_extra_values:
            extras = CustomField.objects.filter(contact_id__in=ids).order_by("contact_id", "pk")
            for contact_id, value in extras.values_list("contact_id", "value"):
                values[contact_id].append(value)
        contacts = list(
            Contact.objects.filter(pk__in=ids).only("name_key", "first_name", "last_name", "company", "email")
        )
        for contact in contacts:
            # As Contact.refresh_search_fields() computes it.
            contact.search_text = " | ".join(
                part
                for part in (
                    contact.name_key,
                    fold(f"{contact.first_name} {contact.last_name}"),
                    fold(contact.company),
                    contact.email.lower(),
                    *(fold(value) for value in values[contact.pk]),
                )
                if part
            )
        Contact.objects.bulk_update(contacts, ["search_text"])
        last = ids[-1]


def add_extra_values(apps, schema_editor):
    refresh(apps, with_extra_values=True)


def drop_extra_values(apps, schema_editor):
    refresh(apps, with_extra_values=False)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0006_refold_typographic_apostrophes")]

    operations = [migrations.RunPython(add_extra_values, drop_extra_values)]
