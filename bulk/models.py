"""A bulk action's fixed set: the contacts it works on, as rows beside its
job, each with what the action found and did, so that its undo restores
what each contact had."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from jobs.models import Job


class Action(models.TextChoices):
    ADD_TAG = "add_tag", _("Add a tag")
    REMOVE_TAG = "remove_tag", _("Remove a tag")
    MOVE = "move", _("Move to a wallet")
    DELETE = "delete", _("Delete")


class Member(models.Model):
    """One contact of a bulk action's set, fixed when the action was
    counted: contacts added or changed to match the filter later are not
    swept in. The contact is an id, not a key: a contact deleted since
    stays a row that nothing is done to."""

    # A set is written half a million rows at once: the unique constraint's
    # index (job, contact) serves look-ups by job, and a second index on the
    # job alone was only work for each row; so was the database's foreign
    # key, which looked the job up once per row when the set was committed
    # (half of fixing a set's time). Jobs are deleted through Django only,
    # which takes their members along.
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    contact_id = models.BigIntegerField()
    # Written as the action runs, chunk by chunk: whether it changed the
    # contact (gave it the tag it lacked, took the tag it had, moved it out
    # of another wallet), and the wallet it was in before. No index holds
    # them, and the table's pages are filled only half (migration 0002), so
    # on PostgreSQL each chunk's flags are rewritten in place, no index
    # touched.
    changed = models.BooleanField(default=False, db_default=False)
    wallet_before_id = models.BigIntegerField(null=True)
    # Whether its undo restored the contact (not changed since, still there).
    undone = models.BooleanField(default=False, db_default=False)

    class Meta:
        verbose_name = _("bulk action contact")
        verbose_name_plural = _("bulk action contacts")
        constraints = [models.UniqueConstraint(fields=["job", "contact_id"], name="bulk_member_unique")]

    def __str__(self):
        return f"{self.job_id}:{self.contact_id}"
