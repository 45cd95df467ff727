"""PostgreSQL-only search set-up.

- Trigram indexes: the search runs `LIKE '%fragment%'` on already-folded
  columns, which a pg_trgm GIN index serves. SQLite has no such index; there
  the query scans, which is fast enough at the sizes SQLite is meant for.
- name_key, the folded sort key, compares byte by byte (COLLATE "C"), as it
  does on SQLite: the list order is the same on both, and "names starting
  with" is one range of its index (contacts.pagination.name_starts_with).
  The model does not declare the collation (SQLite has no "C"); a later
  AlterField on name_key must keep it.
- A larger statistics sample for search_text: with the default, PostgreSQL
  guessed 99 rows for a surname that 30,000 contacts share, and chose plans
  that read them all.
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
    schema_editor.execute('ALTER TABLE contacts_contact ALTER COLUMN name_key TYPE varchar(200) COLLATE "C"')
    schema_editor.execute("ALTER TABLE contacts_contact ALTER COLUMN search_text SET STATISTICS 1000")
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
    schema_editor.execute('ALTER TABLE contacts_contact ALTER COLUMN name_key TYPE varchar(200) COLLATE "default"')
    schema_editor.execute("ALTER TABLE contacts_contact ALTER COLUMN search_text SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0002_roles")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
