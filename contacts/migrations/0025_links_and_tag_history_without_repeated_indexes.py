"""Two indexes that were only work for every tag given (a bulk action
gives one to half a million contacts at once; benchmarks/README.md, Bulk
actions, third pass):

- the tag links' index on the contact alone: their unique (contact, tag)
  index starts with the contact and serves every look-up by contact. The
  links are Django's own many-to-many table, with no state to change: the
  index is dropped from the database only.
- the tag rows of the history's index on the link's id: a record's tags
  are read by record, never by link.

Dropped concurrently on PostgreSQL, so tags keep being given meanwhile."""

from django.db import migrations, models

from contacts_portal.migrating import DropIndexWithoutBlocking


class Migration(migrations.Migration):

    # DROP INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ("contacts", "0024_birthday_index_covers_the_list_order"),
    ]

    operations = [
        DropIndexWithoutBlocking(
            name="contacts_contact_tags_contact_id_ff2c136b", table="contacts_contact_tags", columns=["contact_id"]
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="historicalcontact_tags",
                    name="id",
                    field=models.BigIntegerField(auto_created=True, blank=True, verbose_name="ID"),
                ),
            ],
            database_operations=[
                DropIndexWithoutBlocking(
                    name="contacts_historicalcontact_tags_id_0b238e04", table="contacts_historicalcontact_tags", columns=["id"]
                ),
            ],
        ),
    ]
