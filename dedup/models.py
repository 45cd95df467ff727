from django.db import models

from jobs.models import Job


class DuplicateGroup(models.Model):
    """One group of duplicates a duplicate search found (a Job of kind
    DUPLICATES): the contacts, the oldest first (the survivor), the rules
    that joined them, and what a merge would move. The merge job reads
    the groups the administrator chose."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="duplicate_groups")
    # Contact ids, survivor first; not foreign keys: a group stays readable
    # (and a merge re-resolves it) when one of them is merged or deleted.
    contact_ids = models.JSONField(default=list)
    rules = models.JSONField(default=list)
    tickets = models.PositiveIntegerField(default=0)
    messages = models.PositiveIntegerField(default=0)
    merged = models.BooleanField(default=False)

    class Meta:
        db_table = "contacts_duplicategroup"
        ordering = ["id"]

    @property
    def survivor_id(self) -> int:
        return self.contact_ids[0]
