"""Fewer indexes for every write to keep (an import of 100,000 contacts
spent most of its database time maintaining them), the same searches served:

- the e-mail's trigram index goes: search_text holds the e-mail, and its
  trigram index serves a search with "@";
- the CPF/CNPJ's trigram index goes: the only search by part is by its
  start, which the unique index serves once it compares by pattern
  (varchar_pattern_ops; equality still uses it);
- created_at's own index goes: contact_newest_idx (created_at, id) serves
  both orders.
"""

from django.db import migrations, models

TRIGRAM_INDEXES = {"contact_email_trgm": "email", "contact_cpf_cnpj_trgm": "cpf_cnpj"}


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON contacts_contact USING gin (({column}::text) gin_trgm_ops)"
        )


class Migration(migrations.Migration):

    dependencies = [
        ('contacts', '0010_email_index'),
    ]

    operations = [
        migrations.RunPython(drop_trigram_indexes, create_trigram_indexes),
        migrations.RemoveConstraint(
            model_name='contact',
            name='contact_cpf_cnpj_unique',
        ),
        migrations.AlterField(
            model_name='contact',
            name='created_at',
            field=models.DateTimeField(auto_now_add=True, verbose_name='created at'),
        ),
        migrations.AlterField(
            model_name='historicalcontact',
            name='created_at',
            field=models.DateTimeField(blank=True, editable=False, verbose_name='created at'),
        ),
        migrations.AddConstraint(
            model_name='contact',
            constraint=models.UniqueConstraint(condition=models.Q(('cpf_cnpj', ''), _negated=True), fields=('cpf_cnpj',), name='contact_cpf_cnpj_unique', opclasses=['varchar_pattern_ops'], violation_error_message='A contact with this CPF/CNPJ already exists.'),
        ),
    ]
