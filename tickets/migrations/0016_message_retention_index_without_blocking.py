"""The retention index (the messages whose content is still there, by
date) on a messages table that may hold millions of rows: built
concurrently on PostgreSQL, so messages keep arriving while it is built.
A database where 0014 built it already keeps it as it is."""

from django.db import migrations, models

from contacts_portal.migrating import AddIndexWithoutBlocking


class Migration(migrations.Migration):

    # CREATE INDEX CONCURRENTLY cannot run inside a transaction.
    atomic = False

    dependencies = [
        ('tickets', '0015_message_media_thumbnail'),
    ]

    operations = [
        AddIndexWithoutBlocking(
            model_name='message',
            index=models.Index(condition=models.Q(('content_removed_at__isnull', True)), fields=['sent_at'], name='message_retention_idx'),
        ),
    ]
