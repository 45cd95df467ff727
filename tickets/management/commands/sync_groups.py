from tickets.sync import sync_groups

from .sync_contacts import Command as SyncContactsCommand


class Command(SyncContactsCommand):
    help = (
        "Sincronizar grupos: a contact (a group) for every group chat of the channels (the stored messages, "
        "and the group lists of the configured WhatsApp gateways), and its messages in tickets. Existing "
        "contacts are left as they are; a second run creates nothing."
    )
    service = staticmethod(sync_groups)
