"""Sincronizar and Sincronizar grupos as jobs, registered with the jobs
app: the request that presses the button only creates the job; a worker
runs the sync and writes its steps on the job as it goes."""

from urllib.parse import urlsplit

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from audit.recording import Source
from contacts_portal.htmx import is_htmx
from jobs.models import Job
from jobs.registry import JobKind, register
from jobs.tasks import enqueue

from . import sync

#: The button's choice -> the job's kind.
KINDS = {"contacts": Job.Kind.SYNC, "groups": Job.Kind.SYNC_GROUPS}
#: The job's kind -> the sync it runs.
SERVICES = {Job.Kind.SYNC: "sync_contacts", Job.Kind.SYNC_GROUPS: "sync_groups"}


def job_start(*, kind: str, user, language: str) -> Job:
    """Create a sync job and enqueue it once the job is committed."""
    job = Job.objects.create(kind=KINDS[kind], user=user, parameters={"language": language})
    enqueue(job)
    return job


def runner(service_name: str):
    """The job that runs tickets.sync's `service_name` (looked up when it
    runs, so a test can replace it)."""

    def run(job) -> None:
        def progress(step: str, done: int, total: int) -> None:
            job.progress(done, total, step=step)

        report = getattr(sync, service_name)(user=job.user, progress=progress, audit_source=Source.PANEL)
        job.finish(result={**report.counts, "notes": report.notes})

    return run


def popup_context(job, request, **kwargs) -> dict:
    """A sync's progress shows in a popup over the contacts list (htmx) or
    as a page of its own; the popup refreshes the list under it when done."""
    shown_on = urlsplit(request.headers.get("HX-Current-URL", "")).path
    return {"in_popup": is_htmx(request) and shown_on != job.get_absolute_url(), "list_url": contacts_list_url(request)}


def contacts_list_url(request) -> str:
    """The contacts list as the page under the popup shows it (same
    filters), to refresh it once a sync is done."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    list_path = reverse("contacts:list")
    return list_path + (f"?{current.query}" if current.path == list_path and current.query else "")


def register_kinds() -> None:
    for name, service_name in SERVICES.items():
        register(
            name,
            JobKind(
                run=runner(service_name),
                source=Source.SYNC,
                page_template="tickets/sync_job.html",
                result_template="tickets/_sync_result.html",
                failure_note=_("The sync stopped because of an unexpected error. What was done up to then is kept; run it again to finish."),
                unit="items",
                again_template="tickets/_sync_actions.html",
                steps=dict(sync.Step.choices),
                # Asking a gateway for its chats, or linking a million
                # messages in one statement, reports nothing for minutes.
                stall_after=15 * 60,
                context=popup_context,
            ),
        )
