"""History without the indexes nothing reads: the record's wallet, and the
tag rows' contact and tag (a contact's tags are read by record). Each was
work for every history record written (an import writes one per contact).

The indexes are dropped by name, the same on both databases: Django's
AlterField would rebuild both history tables on SQLite to drop them."""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = [
    ("contacts_historicalcontact_wallet_id_f9651bbc", "contacts_historicalcontact", "wallet_id"),
    ("contacts_historicalcontact_tags_contact_id_13179b3a", "contacts_historicalcontact_tags", "contact_id"),
    ("contacts_historicalcontact_tags_tag_id_a09cb1f3", "contacts_historicalcontact_tags", "tag_id"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0011_leaner_search_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="historicalcontact",
                    name="wallet",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="contacts.wallet",
                        verbose_name="wallet",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalcontact_tags",
                    name="contact",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        db_tablespace="",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="contacts.contact",
                    ),
                ),
                migrations.AlterField(
                    model_name="historicalcontact_tags",
                    name="tag",
                    field=models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        db_tablespace="",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="contacts.tag",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {name}",
                    f"CREATE INDEX {name} ON {table} ({column})",
                )
                for name, table, column in INDEXES
            ],
        ),
    ]
