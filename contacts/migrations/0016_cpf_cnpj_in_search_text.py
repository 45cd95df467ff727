"""The CPF/CNPJ, without its mask, joins search_text (last, as
Contact.refresh_search_fields() puts it), so digits from its middle find it."""

from django.db import migrations

PUNCTUATION = dict.fromkeys([*map(ord, ".-/"), *(c for c in range(0x3001) if chr(c).isspace())])


def add_documents(apps, schema_editor):
    Contact = apps.get_model("contacts", "Contact")
    batch = []
    rows = Contact.objects.exclude(cpf_cnpj="").only("search_text", "cpf_cnpj").order_by("pk")
    for contact in rows.iterator(chunk_size=2000):
        key = contact.cpf_cnpj.translate(PUNCTUATION).lower()
        contact.search_text = f"{contact.search_text} | {key}" if contact.search_text else key
        batch.append(contact)
        if len(batch) == 2000:
            Contact.objects.bulk_update(batch, ["search_text"])
            batch = []
    Contact.objects.bulk_update(batch, ["search_text"])


def remove_documents(apps, schema_editor):
    Contact = apps.get_model("contacts", "Contact")
    batch = []
    rows = Contact.objects.exclude(cpf_cnpj="").only("search_text", "cpf_cnpj").order_by("pk")
    for contact in rows.iterator(chunk_size=2000):
        key = contact.cpf_cnpj.translate(PUNCTUATION).lower()
        parts = contact.search_text.split(" | ")
        if parts and parts[-1] == key:
            contact.search_text = " | ".join(parts[:-1])
            batch.append(contact)
    Contact.objects.bulk_update(batch, ["search_text"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("contacts", "0015_contact_identities")]

    operations = [migrations.RunPython(add_documents, remove_documents, elidable=True)]
