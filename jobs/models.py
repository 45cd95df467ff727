"""A long piece of work run by a task worker: an import and its preview,
an export, a duplicate search, a merge, a sync. What the work is belongs
to the app that registers its kind (registry.py); the job only knows how
far it got, how it ended, and its files."""

import time
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.tasks import DEFAULT_TASK_QUEUE_NAME
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import registry


def job_file_path(job, filename: str) -> str:
    # A random folder per job: names are never guessable, and the files are
    # served only through the job's view anyway.
    return f"jobs/{job.token}/{filename}"


class JobQuerySet(models.QuerySet):
    def visible_to(self, user):
        """A job, its page and its files are its owner's alone: a file
        holds the rows of contacts the owner may see, and nobody else's
        view of them was checked."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user)

    def listed_for(self, user, *, everyone: bool = False):
        """The imports and exports on the user's list of jobs, newest
        first: their own, or everyone's for an administrator who asks
        (who started what, how it ended; the pages and files stay their
        owners')."""
        jobs = self.all() if everyone and user.has_perm("jobs.view_job") else self.visible_to(user)
        return jobs.filter(kind__in=registry.listed_kinds()).select_related("user")


class Job(models.Model):
    class Kind(models.TextChoices):
        IMPORT_PREVIEW = "import_preview", _("import preview")
        IMPORT = "import", _("import")
        EXPORT = "export", _("export")
        DUPLICATES = "duplicates", _("duplicate search")
        MERGE = "merge", _("duplicate removal")
        SYNC = "sync", _("Sync")
        SYNC_GROUPS = "sync_groups", _("Sync groups")
        BULK = "bulk", _("bulk action")
        BULK_UNDO = "bulk_undo", _("undo of a bulk action")

    class Status(models.TextChoices):
        DRAFT = "draft", _("waiting for the column choices")
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Null for a job a command started, or whose user was deleted since.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # Written by the worker as it goes: a job whose heartbeat stops while
    # running was killed (see is_stalled).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # What the work is doing now, for work done in steps (a sync); its
    # words come from the job's kind.
    step = models.CharField(_("step"), max_length=16, blank=True)
    total = models.PositiveIntegerField(_("total"), default=0)
    done = models.PositiveIntegerField(_("done"), default=0)
    parameters = models.JSONField(_("parameters"), default=dict, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    # What an unforeseen failure was (its traceback), for administrators:
    # the user reads `error`, a message in their words.
    error_detail = models.TextField(_("error details"), blank=True)
    source_file = models.FileField(upload_to=job_file_path, blank=True, max_length=200)
    result_file = models.FileField(upload_to=job_file_path, blank=True, max_length=200)
    report_file = models.FileField(upload_to=job_file_path, blank=True, max_length=200)

    objects = JobQuerySet.as_manager()

    PROGRESS_EVERY = 0.5  # seconds between two progress writes
    #: The task queue every job runs on (tasks.run_job): the one a plain
    #: `manage.py db_worker` serves.
    QUEUE_NAME = DEFAULT_TASK_QUEUE_NAME

    class Meta:
        db_table = "contacts_job"
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    def get_absolute_url(self):
        return reverse("jobs:detail", args=[self.token])

    @property
    def language(self) -> str:
        """The language of whoever started the job: its notes and its
        error report are written in it."""
        return self.parameters.get("language") or settings.LANGUAGE_CODE

    # The worker's side: each writes its own columns only, so that a page
    # reading the job meanwhile never sees a half-written state.

    def start(self) -> bool:
        """Mark the job running; False when it is not waiting to run (a
        task enqueued twice: the first run does the work)."""
        now = timezone.now()
        started = Job.objects.filter(pk=self.pk, status=self.Status.QUEUED).update(
            status=self.Status.RUNNING, started_at=now, heartbeat_at=now
        )
        if started:
            self.status, self.started_at, self.heartbeat_at = self.Status.RUNNING, now, now
        return bool(started)

    def progress(self, done: int, total: int | None = None, *, step: str | None = None, force: bool = False) -> None:
        """Report how far the work got, at most twice a second unless forced
        (a new step is always written). Each report is a heartbeat."""
        now = time.monotonic()
        if not force and step in (None, self.step) and now - getattr(self, "_reported", 0.0) < self.PROGRESS_EVERY:
            return
        self._reported = now
        fields = {"done": done, "heartbeat_at": timezone.now()}
        if total is not None:
            fields["total"] = total
        if step is not None:
            fields["step"] = step
        Job.objects.filter(pk=self.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)

    def finish(self, *, result: dict | None = None, **fields) -> None:
        """The work is done: its result (counts to show) and any other
        column it sets (total, done)."""
        fields = {"status": self.Status.DONE, "finished_at": timezone.now(), **fields}
        if result is not None:
            fields["result"] = result
        Job.objects.filter(pk=self.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)

    def fail(self, error: str, *, detail: str = "") -> None:
        """The work stopped; `error` says why, in the user's words, and
        `detail` what it was, for administrators."""
        fields = {"status": self.Status.FAILED, "error": error, "error_detail": detail, "finished_at": timezone.now()}
        Job.objects.filter(pk=self.pk).update(**fields)
        for name, value in fields.items():
            setattr(self, name, value)

    # What its page shows.

    @property
    def files_expire_at(self):
        return self.created_at + timedelta(days=settings.JOB_FILE_RETENTION_DAYS)

    @property
    def files_expired(self) -> bool:
        """Its files are past JOB_FILE_RETENTION_DAYS: gone, or about to be
        removed by the next purge, and no longer handed out."""
        return timezone.now() >= self.files_expire_at

    @property
    def downloads(self) -> list[str]:
        """Which of its files can be downloaded now ("result", "report")."""
        if self.files_expired:
            return []
        return [which for which, field in (("result", self.result_file), ("report", self.report_file)) if field]

    @property
    def is_stalled(self) -> bool:
        if self.status != self.Status.RUNNING or self.heartbeat_at is None:
            return False
        return (timezone.now() - self.heartbeat_at).total_seconds() > registry.stall_after(self)

    @property
    def rerun_blocker(self) -> str:
        """Why this job cannot be run again as it was ("" when it can): it
        did not fail, or the file it worked on was removed since."""
        if not (self.status == self.Status.FAILED or self.is_stalled):
            return _("Only a job that failed or stopped can be run again.")
        if self.file_name and not (self.source_file and self.source_file.storage.exists(self.source_file.name)):
            days = settings.JOB_FILE_RETENTION_DAYS
            return ngettext(
                "The file you sent is no longer on the server (files are kept %(days)s day), so this cannot run again: send the file again.",
                "The file you sent is no longer on the server (files are kept %(days)s days), so this cannot run again: send the file again.",
                days,
            ) % {"days": days}
        return ""

    @property
    def waits_without_worker(self) -> bool:
        """Queued while no worker serving its queue is on: nothing runs it
        until one starts (a worker on another queue never will)."""
        return self.status == self.Status.QUEUED and not Worker.objects.any_on(queue_name=self.QUEUE_NAME)

    @property
    def worker_queue_option(self) -> str:
        """What `manage.py db_worker` needs to serve this job's queue: nothing
        for the default queue."""
        return "" if self.QUEUE_NAME == DEFAULT_TASK_QUEUE_NAME else f"--queue-name {self.QUEUE_NAME}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED) or self.is_stalled

    @property
    def rate(self) -> float | None:
        """Rows (or groups) a second so far."""
        if not self.started_at or not self.done:
            return None
        elapsed = ((self.finished_at or timezone.now()) - self.started_at).total_seconds()
        return self.done / elapsed if elapsed > 0 else None

    @property
    def seconds_left(self) -> int | None:
        rate = self.rate
        if not rate or not self.total or self.done >= self.total:
            return None
        return int((self.total - self.done) / rate) + 1

    @property
    def percent(self) -> int:
        if self.is_finished:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0


class WorkerQuerySet(models.QuerySet):
    def last_heartbeat(self):
        """When a worker was last seen alive: its own heartbeat, or the
        progress report of a job it runs (a long step may outlast a beat).
        None when no worker was ever seen."""
        return self.last_heartbeats(queue_names=())[0]

    def last_heartbeats(self, *, queue_names: Sequence[str]) -> tuple[datetime | None, dict[str, datetime | None]]:
        """last_heartbeat(), and the same of the workers serving each queue,
        from one reading: a worker of another queue being alive says nothing
        of this one's (the media worker beating while nobody runs the
        imports). A handful of rows: a worker that stops leaves, a forgotten
        one is dropped."""
        workers = list(self.only("seen_at", "queues", "excluded_queues"))
        job_report = Job.objects.filter(status=Job.Status.RUNNING).aggregate(last=models.Max("heartbeat_at"))["last"]

        def newest(beats):
            return max((beat for beat in beats if beat is not None), default=None)

        by_queue = {
            queue_name: newest(
                [worker.seen_at for worker in workers if worker.serves(queue_name)] + ([job_report] if queue_name == Job.QUEUE_NAME else [])
            )
            for queue_name in queue_names
        }
        return newest([worker.seen_at for worker in workers] + [job_report]), by_queue

    def any_on(self, *, queue_name: str) -> bool:
        """Some worker serving the queue was seen within Worker.GONE_AFTER
        seconds: its own heartbeat or, for the jobs' queue, the progress
        report of a running job (a long step may outlast a beat)."""
        since = timezone.now() - timedelta(seconds=Worker.GONE_AFTER)
        if queue_name == Job.QUEUE_NAME and Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__gte=since).exists():
            return True
        # A handful of rows (a worker that stops leaves, a forgotten one is
        # dropped), each asked the way db_worker reads its own options.
        return any(worker.serves(queue_name) for worker in self.filter(seen_at__gte=since).only("queues", "excluded_queues"))


class Worker(models.Model):
    """A task worker (`manage.py db_worker`) as it was last seen: it says
    so at least every HEARTBEAT_EVERY seconds, idle or busy, and leaves
    when it stops (workers.py). django-tasks-db keeps no such record."""

    #: Seconds between two heartbeats of one worker.
    HEARTBEAT_EVERY = 15
    #: Seconds without any heartbeat after which no worker is taken to be
    #: on: a few missed beats, so that a worker between two beats is not gone.
    GONE_AFTER = 4 * HEARTBEAT_EVERY

    worker_id = models.CharField(_("worker id"), max_length=64, unique=True)
    host = models.CharField(_("host"), max_length=255)
    pid = models.PositiveIntegerField(_("process id"))
    started_at = models.DateTimeField(_("started at"))
    seen_at = models.DateTimeField(_("last seen at"), db_index=True)
    # The queues it takes tasks from, as given to db_worker: comma-separated
    # names in --queue-name ("*" for every queue) less those in
    # --exclude-queues. Defaults in the database too, so that a worker
    # started before these columns existed still records itself, taken
    # for what a plain db_worker serves.
    queues = models.TextField(_("queues"), db_default=DEFAULT_TASK_QUEUE_NAME)
    excluded_queues = models.TextField(_("excluded queues"), blank=True, db_default="")

    objects = WorkerQuerySet.as_manager()

    class Meta:
        verbose_name = _("task worker")
        verbose_name_plural = _("task workers")
        ordering = ["-seen_at"]

    def __str__(self):
        return f"{self.host}:{self.pid}"

    def serves(self, queue_name: str) -> bool:
        """Whether this worker takes the tasks of the queue."""
        queues = self.queues.split(",")
        return ("*" in queues or queue_name in queues) and queue_name not in self.excluded_queues.split(",")
