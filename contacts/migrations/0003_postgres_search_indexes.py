"""Trigram indexes for substring search on PostgreSQL.

The search runs `LIKE '%fragment%'` on already-folded columns, which a
pg_trgm GIN index serves. SQLite has no such index; there the query scans,
which is fast enough at the sizes SQLite is meant for.
"""

from django.db import migrations

INDEXES = {
    "contact_search_text_trgm": "search_text",
    "contact_number_trgm": "number",
    "contact_email_trgm": "email",
    "contact_cpf_cnpj_trgm": "cpf_cnpj",
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON contacts_contact "
            f"USING gin (({column}::text) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_roles")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
