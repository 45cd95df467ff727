"""Background jobs (django.tasks, on the database backend: `manage.py
db_worker`, as many workers on as many machines as wanted). A request only
creates a Job and enqueues it; the worker does the work, reports progress
on the Job, and leaves its result and files there.

A job that fails leaves nothing half-written (an import writes in one
transaction) and shows its reason; running it again is safe (imports are
idempotent).
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from .models import AuditEvent, Contact, DuplicateGroup, Job, Tag, Wallet
from .recording import Source, recording

logger = logging.getLogger(__name__)

PREVIEW_ERRORS = 20  # rejected rows shown before confirming


def enqueue_job(job: Job) -> None:
    """Run the job on a worker once the transaction that created it commits."""
    transaction.on_commit(lambda: run_job.enqueue(job_id=job.pk))


@task()
def run_job(job_id: int) -> None:
    job = Job.objects.select_related("user").get(pk=job_id)
    if job.status != Job.Status.QUEUED:
        return  # a retry of a job that already ran
    now = timezone.now()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, started_at=now, heartbeat_at=now)
    purge_expired_job_files()
    runner = {
        Job.Kind.IMPORT_PREVIEW: _preview,
        Job.Kind.IMPORT: _import,
        Job.Kind.EXPORT: _export,
        Job.Kind.DUPLICATES: _find_duplicates,
        Job.Kind.MERGE: _merge,
    }[job.kind]
    try:
        with override(job.parameters.get("language") or settings.LANGUAGE_CODE):
            source = {Job.Kind.EXPORT: Source.COMMAND, Job.Kind.DUPLICATES: Source.MERGE, Job.Kind.MERGE: Source.MERGE}.get(
                job.kind, Source.IMPORT
            )
            with recording(source=source, user=job.user):
                runner(job)
    except Exception as error:  # the job says what went wrong; nothing half-written stays
        from .transfer.reading import SpreadsheetError

        message = str(error) if isinstance(error, SpreadsheetError) else _("The job failed: %(error)s") % {"error": error.__class__.__name__}
        if not isinstance(error, SpreadsheetError):
            logger.exception("Job %s failed", job.pk)
        Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED, error=message, finished_at=timezone.now())
        return
    Job.objects.filter(pk=job.pk).update(status=Job.Status.DONE, finished_at=timezone.now())


class Progress:
    """Reports rows done on the job, at most twice a second."""

    def __init__(self, job: Job):
        self.job = job
        self.last = 0.0

    def __call__(self, done: int, total: int | None = None) -> None:
        now = time.monotonic()
        if now - self.last < 0.5:
            return
        self.last = now
        fields = {"done": done, "heartbeat_at": timezone.now()}
        if total is not None:
            fields["total"] = total
        Job.objects.filter(pk=self.job.pk).update(**fields)


def _table(job: Job):
    from .transfer.reading import read_table

    with job.source_file.open("rb") as file:
        # Read whole into a temporary copy the parser can seek in, whatever
        # the storage is (an object store's files are not seekable).
        import tempfile

        copy = tempfile.TemporaryFile()
        for chunk in file.chunks():
            copy.write(chunk)
    copy.seek(0)
    return read_table(copy)


def _importer_options(job: Job) -> dict:
    parameters = job.parameters
    wallet = Wallet.objects.filter(pk=parameters.get("wallet")).first() if parameters.get("wallet") else None
    return {"mapping": parameters.get("mapping"), "wallet": wallet, "tag": parameters.get("tag", "")}


def _preview(job: Job) -> None:
    from .transfer.importing import import_contacts

    progress = Progress(job)
    result = import_contacts(table=_table(job), dry_run=True, progress=progress, **_importer_options(job))
    Job.objects.filter(pk=job.pk).update(
        total=result.rows,
        done=result.rows,
        result={
            **result.counts(),
            "errors": [[number, message] for number, _cells, message in result.errors[:PREVIEW_ERRORS]],
        },
    )


def _import(job: Job) -> None:
    from .transfer.importing import import_file, rejected_rows

    progress = Progress(job)
    result = import_file(
        read=lambda: _table(job), file_name=job.parameters.get("file_name", ""), progress=progress, **_importer_options(job)
    )
    report = None
    if result.errors:
        report = _write_report(rejected_rows(result))
    job.refresh_from_db()
    job.total = job.done = result.rows
    job.result = {**result.counts(), "errors": [[n, m] for n, _c, m in result.errors[:PREVIEW_ERRORS]]}
    if report is not None:
        job.report_file.save("erros.xlsx", File(report), save=False)
    job.save(update_fields=["total", "done", "result", "report_file"])


def _write_report(rows):
    import tempfile

    import xlsxwriter

    from .transfer.exporting import XLSX_TEXT_ONLY, excel_text

    output = tempfile.TemporaryFile()
    workbook = xlsxwriter.Workbook(output, {"constant_memory": True, **XLSX_TEXT_ONLY})
    sheet = workbook.add_worksheet("Erros")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value not in ("", None):
                sheet.write_string(r, c, excel_text(value))
    workbook.close()
    output.seek(0)
    return output


def export_queryset(parameters: dict, user) -> QuerySet:
    """The contacts an export covers: what the panel showed (search and
    filters) among what the user may see."""
    queryset = Contact.objects.visible_to(user)
    if parameters.get("q"):
        queryset = queryset.search(parameters["q"])
    wallet = parameters.get("wallet")
    if wallet == "none":
        queryset = queryset.filter(wallet__isnull=True)
    elif wallet:
        queryset = queryset.filter(wallet_id=wallet)
    if parameters.get("tag"):
        queryset = queryset.with_any_tag(Tag.objects.filter(pk__in=parameters["tag"]))
    if parameters.get("type") in ("people", "groups"):
        queryset = queryset.filter(is_group=parameters["type"] == "groups")
    return queryset


def _export(job: Job) -> None:
    from .transfer.exporting import write_csv, write_xlsx
    from .services import audit_record

    queryset = export_queryset(job.parameters, job.user)
    total = queryset.count()
    Job.objects.filter(pk=job.pk).update(total=total)
    progress = Progress(job)
    fmt = job.parameters.get("format", "xlsx")
    writer = write_csv if fmt == "csv" else write_xlsx
    output, count = writer(queryset, progress=lambda done: progress(done, total))
    name = f"contatos-{timezone.localtime():%Y-%m-%d-%H%M}.{fmt}"
    job.refresh_from_db()
    job.result_file.save(name, File(output), save=False)
    job.total = job.done = count
    job.result = {"rows": count, "format": fmt}
    job.save(update_fields=["result_file", "total", "done", "result"])
    audit_record(
        action=AuditEvent.Action.EXPORT,
        user=job.user,
        source=Source.PANEL if job.parameters.get("from_panel") else Source.COMMAND,
        parameters={key: job.parameters.get(key) for key in ("q", "wallet", "tag", "type", "format") if job.parameters.get(key)}
        | {"file": name},
        counts={"rows": count},
    )


def _find_duplicates(job: Job) -> None:
    """Remover duplicados, step one: the groups, stored for the
    administrator to look at and choose from; nothing is merged."""
    from .duplicates import find_duplicates

    groups = find_duplicates(progress=Progress(job))
    DuplicateGroup.objects.bulk_create(
        (
            DuplicateGroup(job=job, contact_ids=group.contact_ids, rules=group.rules, tickets=group.tickets, messages=group.messages)
            for group in groups
        ),
        batch_size=5000,
    )
    Job.objects.filter(pk=job.pk).update(
        total=len(groups),
        done=len(groups),
        result={
            "groups": len(groups),
            "contacts": sum(len(group.contact_ids) - 1 for group in groups),
            "tickets": sum(group.tickets for group in groups),
            "messages": sum(group.messages for group in groups),
        },
    )


def _merge(job: Job) -> None:
    """Step two: merge the groups chosen (all, or those listed) of a search."""
    from .duplicates import contacts_merge

    search = job.parameters["search"]
    chosen = DuplicateGroup.objects.filter(job_id=search, merged=False).order_by("pk")
    if job.parameters.get("groups") is not None:
        chosen = chosen.filter(pk__in=job.parameters["groups"])
    rows = list(chosen.values_list("pk", "contact_ids", "rules"))
    Job.objects.filter(pk=job.pk).update(total=len(rows))
    progress = Progress(job)
    result = contacts_merge(
        groups=[ids for _pk, ids, _rules in rows],
        rules=[rules for _pk, _ids, rules in rows],
        progress=lambda done, total: progress(done, total),
        audit={"from": "panel" if job.parameters.get("from_panel") else "command", "groups_chosen": len(rows)},
    )
    DuplicateGroup.objects.filter(pk__in=[pk for pk, _ids, _rules in rows]).update(merged=True)
    Job.objects.filter(pk=job.pk).update(
        done=len(rows), result={**result.counts(), "survivors": [list(row) for row in Contact.objects.filter(pk__in=result.survivors[:SURVIVORS_SHOWN]).values_list("pk", "name")]}
    )


SURVIVORS_SHOWN = 20


def purge_expired_job_files() -> int:
    """Remove the files of jobs older than JOB_FILE_RETENTION_DAYS, and the
    groups of duplicate searches as old (the jobs stay, as a record).
    Returns how many jobs lost their files."""
    cutoff = timezone.now() - timedelta(days=settings.JOB_FILE_RETENTION_DAYS)
    purged = 0
    for job in Job.objects.filter(created_at__lt=cutoff).exclude(source_file="", result_file="", report_file=""):
        for file in (job.source_file, job.result_file, job.report_file):
            if file:
                file.storage.delete(file.name)
        Job.objects.filter(pk=job.pk).update(source_file="", result_file="", report_file="")
        purged += 1
    # An old duplicate search's groups: the merges it led to keep their records.
    DuplicateGroup.objects.filter(job__created_at__lt=cutoff).delete()
    return purged
