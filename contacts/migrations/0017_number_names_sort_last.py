"""Contacts named only by their number get name_key "~" + the folded name
(as Contact.refresh_search_fields() now gives them), so that the A-Z list
shows them after the named ones."""

from django.db import migrations

PREFIX = "~"


def is_number_name(name):
    return any(ch.isdigit() for ch in name) and not any(ch.isalpha() for ch in name)


def move(apps, forward):
    Contact = apps.get_model("contacts", "Contact")
    batch = []
    # Names with no ASCII letter; the rest of the test in Python.
    rows = Contact.objects.filter(name__regex=r"^[^A-Za-z]*$").only("name", "name_key").order_by("pk")
    for contact in rows.iterator(chunk_size=2000):
        if not is_number_name(contact.name):
            continue
        key = contact.name_key.removeprefix(PREFIX)
        contact.name_key = (PREFIX + key)[:200] if forward else key
        batch.append(contact)
    Contact.objects.bulk_update(batch, ["name_key"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0016_cpf_cnpj_in_search_text")]

    operations = [
        migrations.RunPython(lambda apps, editor: move(apps, True), lambda apps, editor: move(apps, False), elidable=True)
    ]
