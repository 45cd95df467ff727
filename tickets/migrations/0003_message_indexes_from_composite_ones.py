"""A message's channel and ticket need no index of their own: the
(channel, external_id) constraint's index and message_ticket_order_idx
start with them, and every index is one more write per message.

(A database migrated while 0001 briefly had these fields without an index
has nothing to drop here; the drop looks for the index and finds none.)
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('tickets', '0002_roles'),
    ]

    operations = [
        migrations.AlterField(
            model_name='message',
            name='channel',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='messages', to='tickets.channel', verbose_name='channel'),
        ),
        migrations.AlterField(
            model_name='message',
            name='ticket',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='messages', to='tickets.ticket', verbose_name='ticket'),
        ),
    ]
