from django.conf import settings
from django.db import models
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from .recording import Source, current_actor, history_user


class HistorySource(models.Model):
    """What a history record adds to simple-history's: through what the
    change was made, and the batch (request, command, job) it was part of.
    The user is simple-history's own `history_user`."""

    history_source = models.CharField(_("through"), max_length=16, choices=Source.choices, default=Source.SYSTEM)
    history_batch = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


class _HistoricalRecords(HistoricalRecords):
    """simple-history's, with `m2m_no_db_index`: the fields of the
    many-to-many rows' history (a record's tags) that get no index, apart
    from `no_db_index`, which names the fields of both."""

    def __init__(self, *, m2m_no_db_index=(), **options):
        super().__init__(**options)
        self.m2m_no_db_index = list(m2m_no_db_index)

    def create_history_m2m_model(self, model, through_model):
        no_db_index = self.no_db_index
        self.no_db_index = [*no_db_index, *self.m2m_no_db_index]
        try:
            return super().create_history_m2m_model(model, through_model)
        finally:
            self.no_db_index = no_db_index


def historical_records(**options) -> HistoricalRecords:
    """simple-history for a model whose records say who changed it, through
    what and in which batch, from the current recording."""
    return _HistoricalRecords(bases=[HistorySource], get_user=history_user, **options)


@receiver(pre_create_historical_record)
def _record_source(sender, history_instance, **kwargs):
    if isinstance(history_instance, HistorySource):
        actor = current_actor()
        history_instance.history_source = actor.source
        history_instance.history_batch = actor.batch


class AuditEvent(models.Model):
    """One bulk or destructive action: who, when, what, with which
    parameters (file name, filters) and counts. Written only through
    services.audit_record(); never changed afterwards."""

    class Action(models.TextChoices):
        DELETE = "delete", _("delete")
        IMPORT = "import", _("import")
        EXPORT = "export", _("export")
        SYNC = "sync", _("sync")
        SYNC_GROUPS = "sync_groups", _("sync groups")
        REMOVE_DUPLICATES = "remove_duplicates", _("duplicate removal")
        WALLET_REASSIGN = "wallet_reassign", _("wallet reassignment")
        LGPD_REQUEST = "lgpd_request", _("LGPD request")
        BULK_ACTION = "bulk_action", _("bulk action")
        BULK_UNDO = "bulk_undo", _("undo of a bulk action")
        OPT_OUT_LIFT = "optout_lift", _("opt-out lifted")
        OPT_OUT_OVERRIDE = "optout_override", _("message despite an opt-out")
        UNMERGE = "unmerge", _("merge undone")
        MESSAGE_RETENTION = "message_retention", _("message retention")

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as written, so the trail still names a user who was deleted since.
    username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices, db_index=True)
    source = models.CharField(_("through"), max_length=16, choices=Source.choices)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)

    class Meta:
        # The table it had when the audit trail was part of contacts.
        db_table = "contacts_auditevent"
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_action_display()} · {self.username or '—'} · {self.created_at:%Y-%m-%d %H:%M}"
