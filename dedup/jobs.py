"""Remover duplicados as jobs: the search for groups, then the merge of
those the administrator chose, registered with the jobs app."""

from django.utils.translation import gettext_lazy as _

from contacts.models import Contact
from audit.recording import Source
from jobs.registry import JobKind, register

from .models import DuplicateGroup

SURVIVORS_SHOWN = 20


def find(job) -> None:
    """Step one: the groups, stored for the administrator to look at and
    choose from; nothing is merged."""
    from .finding import find_duplicates

    groups = find_duplicates(progress=job.progress)
    DuplicateGroup.objects.bulk_create(
        (
            DuplicateGroup(job=job, contact_ids=group.contact_ids, rules=group.rules, tickets=group.tickets, messages=group.messages)
            for group in groups
        ),
        batch_size=5000,
    )
    job.finish(
        total=len(groups),
        done=len(groups),
        result={
            "groups": len(groups),
            "contacts": sum(len(group.contact_ids) - 1 for group in groups),
            "tickets": sum(group.tickets for group in groups),
            "messages": sum(group.messages for group in groups),
        },
    )


def merge(job) -> None:
    """Step two: merge the groups chosen (all, or those listed) of a search."""
    from .merging import contacts_merge

    chosen = DuplicateGroup.objects.filter(job_id=job.parameters["search"], merged=False).order_by("pk")
    if job.parameters.get("groups") is not None:
        chosen = chosen.filter(pk__in=job.parameters["groups"])
    rows = list(chosen.values_list("pk", "contact_ids", "rules"))
    job.progress(0, len(rows), force=True)
    result = contacts_merge(
        groups=[ids for _pk, ids, _rules in rows],
        rules=[rules for _pk, _ids, rules in rows],
        progress=job.progress,
        audit={"from": "panel" if job.parameters.get("from_panel") else "command", "groups_chosen": len(rows)},
    )
    DuplicateGroup.objects.filter(pk__in=[pk for pk, _ids, _rules in rows]).update(merged=True)
    survivors = Contact.objects.filter(pk__in=result.survivors[:SURVIVORS_SHOWN]).values_list("pk", "name")
    job.finish(done=len(rows), result={**result.counts(), "survivors": [list(row) for row in survivors]})


def expire(cutoff) -> None:
    # An old search's groups: the merges it led to keep their records.
    DuplicateGroup.objects.filter(job__created_at__lt=cutoff).delete()


def register_kinds() -> None:
    common = {
        "source": Source.MERGE,
        "page_template": "dedup/duplicates_job.html",
        "failure_note": _("Groups already merged stay merged, each one whole; nothing is half-merged. You can run it again."),
        "again_template": "dedup/_search_again.html",
    }
    register(
        "duplicates",
        JobKind(
            run=find,
            result_template="dedup/_duplicate_groups.html",
            running=_("Looking for contacts that are one person; nothing is changed yet…"),
            unit="steps",
            context=_groups_context,
            expire=expire,
            **common,
        ),
    )
    register(
        "merge",
        JobKind(
            run=merge,
            result_template="dedup/_merge_result.html",
            running=_("Merging…"),
            unit="groups",
            context=_merge_context,
            **common,
        ),
    )


def _groups_context(job, request, **kwargs) -> dict:
    from .views import group_page

    if job.status == job.Status.DONE:
        return group_page(job, request.GET.get("page"), request.user)
    return {}


def _merge_context(job, request, **kwargs) -> dict:
    """A merge of some groups leads back to its search's other groups."""
    from jobs.models import Job

    from .views import remaining_groups

    search = Job.objects.filter(pk=job.parameters.get("search"), kind=Job.Kind.DUPLICATES, user=job.user).first()
    if job.status != job.Status.DONE or search is None:
        return {}
    return {"search": search, "remaining": remaining_groups(search)}
