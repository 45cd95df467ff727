"""The kinds of job, each registered by the app whose work it is (the
import and export by contacts.transfer, the duplicate search and merge by
dedup, the syncs by tickets), so that this app runs and shows every job
without knowing any of that work."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.utils.functional import Promise


@dataclass(frozen=True)
class JobKind:
    #: Does the work: reads job.parameters, reports with job.progress(),
    #: and returns the result to show (or calls job.finish() itself).
    run: Callable
    #: Through what the work is recorded in history and the audit trail.
    source: str
    #: The page that shows a job of this kind, and what a finished one says.
    page_template: str
    result_template: str
    #: What a running job of this kind is doing, when it has no steps.
    running: str | Promise = ""
    #: Said under a failure: what the failure left behind.
    failure_note: str | Promise = ""
    #: The way to run it again after a failure ("" for none), for a kind
    #: that does it its own way; see `rerun` for the common way.
    again_template: str = ""
    #: A failed job can be run again as it was ("Run again"): a new job of
    #: the same kind, parameters and uploaded file, for whoever may still
    #: start such a job (`permission`).
    rerun: bool = False
    permission: str = ""
    #: Where a job of this kind is started anew (a URL name), when running
    #: it again cannot be.
    start_url: str = ""
    #: Listed on "My imports and exports", with its files.
    listed: bool = False
    #: What the progress counts ("rows", "groups", "steps").
    unit: str = "rows"
    #: Seconds without a report after which a running job is taken for
    #: dead (its worker went away).
    stall_after: int = 120
    #: Step names -> what the user reads while the job is in that step.
    steps: Mapping[str, str | Promise] = field(default_factory=dict)
    #: Extra context for the job's page: (job, request) -> dict.
    context: Callable | None = None
    #: A form on the page of a job that waits for it (the import's
    #: column choices): (view, request, job) -> response.
    post: Callable | None = None
    #: Drops what jobs of this kind keep beside their files once they are
    #: older than the retention (a duplicate search's groups): (cutoff) -> None.
    expire: Callable | None = None


_kinds: dict[str, JobKind] = {}


def register(name: str, kind: JobKind) -> None:
    _kinds[name] = kind


def kind_of(job) -> JobKind:
    return _kinds[job.kind]


#: How long a job whose kind says nothing may go without a report.
STALL_AFTER = JobKind.__dataclass_fields__["stall_after"].default


def stall_after(job) -> int:
    kind = _kinds.get(job.kind)
    return kind.stall_after if kind is not None else STALL_AFTER


def kinds() -> list[JobKind]:
    return list(_kinds.values())


def listed_kinds() -> list[str]:
    return [name for name, kind in _kinds.items() if kind.listed]
