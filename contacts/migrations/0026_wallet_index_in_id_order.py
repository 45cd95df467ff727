"""The wallet's index holds the contacts' ids in order, and their names:
a list filtered by a wallet and a tag is counted by merging it with the
tag links' (contact, tag) index, without reading a row for each contact
of the wallet on the way (benchmarks/README.md, "The slowest value of
each scenario"). It replaces the index Django made of the wallet field
alone, which any look-up by wallet the new one serves as well.

Built and dropped concurrently on PostgreSQL, so contacts keep being
written meanwhile."""

from django.db import migrations, models

from contacts_portal.migrating import AddIndexWithoutBlocking, DropIndexWithoutBlocking


class Migration(migrations.Migration):

    # CREATE and DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("contacts", "0025_links_and_tag_history_without_repeated_indexes"),
    ]

    operations = [
        AddIndexWithoutBlocking(
            model_name="contact",
            index=models.Index(fields=["wallet", "id"], include=("name_key",), name="contact_wallet_idx"),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="contact",
                    name="wallet",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=models.deletion.PROTECT,
                        related_name="contacts",
                        to="contacts.wallet",
                        verbose_name="wallet",
                    ),
                ),
            ],
            database_operations=[
                DropIndexWithoutBlocking(name="contacts_contact_wallet_id_38c22986", table="contacts_contact", columns=["wallet_id"]),
            ],
        ),
    ]
