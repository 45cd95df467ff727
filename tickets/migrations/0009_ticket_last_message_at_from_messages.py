from django.db import migrations
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce


def from_messages(apps, schema_editor):
    """Each ticket's last message, else its opening, instead of the time of
    the migration. A migration of its own: PostgreSQL does not alter a
    table in the transaction that changed its rows."""
    Ticket = apps.get_model("tickets", "Ticket")
    Message = apps.get_model("tickets", "Message")
    newest = Message.objects.filter(ticket=OuterRef("pk")).order_by("-sent_at", "-id").values("sent_at")[:1]
    Ticket.objects.update(last_message_at=Coalesce(Subquery(newest), F("created_at")))


class Migration(migrations.Migration):
    dependencies = [("tickets", "0008_ticket_last_message_and_reads")]

    operations = [migrations.RunPython(from_messages, migrations.RunPython.noop, elidable=True)]
