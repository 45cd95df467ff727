"""Actions on many contacts at once: add or remove a tag, move to a wallet,
delete. Shared by the list's bulk bar (views), `manage.py bulk_contacts`
and the background job that does the work (jobs.py).

An action goes in three steps:
1. bulk_prepare: the contacts it covers are fixed as rows beside a draft
   job (one INSERT … SELECT), and counted exactly (what will change, what
   is already so; on PostgreSQL in the same statement); nothing changes
   yet.
2. bulk_confirm: the user confirms what the count says (a delete asks for
   the count typed); the job is queued.
3. bulk_run, on a worker: the work, a chunk of the set at a time, each in
   a transaction of its own, with progress. Every statement works on the
   whole chunk in the database: on PostgreSQL a chunk is one statement
   (the links or wallets, the members' flags, the history records with
   their tags: _write_and_record); elsewhere an UPDATE of the members'
   flags, an INSERT … SELECT or DELETE, the records. No contact passes
   through Python, no model is saved one by one. benchmarks/bulk.py times
   it at 500,000 contacts.
Tags and wallet moves can then be undone (bulk_undo_start, bulk_undo_run)
for JOB_FILE_RETENTION_DAYS: each contact the action changed gets back
what it had, unless it was changed again since (its history says so).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.fields import CharField, DateTimeField, UUIDField
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from audit.models import AuditEvent
from audit.recording import current_actor, current_user
from audit.services import audit_record
from contacts.deletion import contacts_deleting
from contacts.models import Contact, Tag, Wallet
from contacts.services import delete_file_after_commit
from contacts_portal import database
from jobs.models import Job
from jobs.tasks import enqueue

from .models import Action, Member

#: Contacts per chunk: each chunk is a transaction and a progress report.
CHUNK = 50_000
#: Deletes go through the ORM's collector (as a single delete does, so each
#: contact's history keeps its last values): smaller chunks.
DELETE_CHUNK = 1_000

UNDOABLE = (Action.ADD_TAG, Action.REMOVE_TAG, Action.MOVE)


class BulkError(Exception):
    """Why a bulk action cannot be done, in the user's words."""


@dataclass(frozen=True)
class Target:
    """What a bulk action does: its action, and the tag or wallet it gives,
    takes or moves to."""

    action: str
    tag: Tag | None = None
    wallet: Wallet | None = None

    def __post_init__(self):
        if self.action in (Action.ADD_TAG, Action.REMOVE_TAG) and self.tag is None:
            raise BulkError(_("Choose the tag."))
        if self.action == Action.MOVE and self.wallet is None:
            raise BulkError(_("Choose the wallet."))

    @property
    def parameters(self) -> dict:
        """As a job keeps it (names too, for the record once they are gone)."""
        parameters = {"action": str(self.action)}
        if self.tag is not None:
            parameters |= {"tag": self.tag.pk, "tag_name": self.tag.name}
        if self.wallet is not None:
            parameters |= {"wallet": self.wallet.pk, "wallet_name": self.wallet.name}
        return parameters

    @classmethod
    def of(cls, job: Job) -> "Target":
        """The target a job was started with; a tag or wallet deleted
        since is a BulkError that names it."""
        parameters = job.parameters
        tag = wallet = None
        if parameters.get("tag"):
            tag = Tag.objects.filter(pk=parameters["tag"]).first()
            if tag is None:
                raise BulkError(_("The tag “%(name)s” was deleted since.") % {"name": parameters.get("tag_name", "")})
        if parameters.get("wallet"):
            wallet = Wallet.objects.filter(pk=parameters["wallet"]).first()
            if wallet is None:
                raise BulkError(_("The wallet “%(name)s” was deleted since.") % {"name": parameters.get("wallet_name", "")})
        return cls(parameters["action"], tag=tag, wallet=wallet)


def is_administrator(user) -> bool:
    return user.has_perm("contacts.view_all_contacts")


def bulk_refusal(*, user, target: Target) -> str:
    """Why `user` may not do this action ("" when they may). Agents tag and
    move within their wallets; deleting, and moving to a wallet that is not
    theirs, are for administrators. No user (a command run without --user)
    may do anything."""
    if user is None:
        return ""
    if not user.has_perm("contacts.change_contact"):
        return _("You are not allowed to change contacts.")
    if target.action == Action.DELETE and not user.has_perm("contacts.delete_contact"):
        return _("Only administrators may delete contacts in bulk.")
    if target.action == Action.MOVE and target.wallet.user_id != user.pk and not is_administrator(user):
        return _("You may move contacts only to your own wallets.")
    return ""


@dataclass(frozen=True)
class Counts:
    """What an action will do (or did) to a set: how many contacts in all,
    how many it changes, how many are already as it would make them."""

    total: int
    change: int

    @property
    def unchanged(self) -> int:
        return self.total - self.change

    def as_dict(self) -> dict:
        return {"total": self.total, "change": self.change, "unchanged": self.unchanged}


def _has_tag(tag: Tag, contact_ref: str = "pk"):
    return Exists(Contact.tags.through.objects.filter(contact_id=OuterRef(contact_ref), tag_id=tag.pk))


def _changes(target: Target) -> Q:
    """Whether `target` would change a contact, asked of each contact (a
    join against a tag's links would be planned from statistics taken
    before the tag grew)."""
    if target.action == Action.ADD_TAG:
        return ~Q(_has_tag(target.tag))
    if target.action == Action.REMOVE_TAG:
        return Q(_has_tag(target.tag))
    if target.action == Action.MOVE:
        return ~Q(wallet=target.wallet)
    return Q(pk__isnull=False)


def bulk_count(*, contacts: QuerySet, target: Target) -> Counts:
    """Exactly what `target` would change among `contacts`, now, in one
    pass."""
    counts = contacts.order_by().aggregate(total=Count("pk"), change=Count("pk", filter=_changes(target)))
    return Counts(counts["total"], counts["change"])


def counts_sentence(target: Target, counts: Counts) -> str:
    """"312 contatos ganharão a etiqueta VIP; 40 já a têm"."""
    change, unchanged = counts.change, counts.unchanged
    values = {"count": f"{change:n}", "unchanged": f"{unchanged:n}"}
    if target.action == Action.ADD_TAG:
        values["tag"] = target.tag.name
        sentence = ngettext("%(count)s contact will get the tag %(tag)s", "%(count)s contacts will get the tag %(tag)s", change) % values
        rest = ngettext("%(unchanged)s already has it", "%(unchanged)s already have it", unchanged) % values
    elif target.action == Action.REMOVE_TAG:
        values["tag"] = target.tag.name
        sentence = ngettext("%(count)s contact will lose the tag %(tag)s", "%(count)s contacts will lose the tag %(tag)s", change) % values
        rest = ngettext("%(unchanged)s does not have it", "%(unchanged)s do not have it", unchanged) % values
    elif target.action == Action.MOVE:
        values["wallet"] = target.wallet.name
        sentence = ngettext(
            "%(count)s contact will move to the wallet %(wallet)s", "%(count)s contacts will move to the wallet %(wallet)s", change
        ) % values
        rest = ngettext("%(unchanged)s is already in it", "%(unchanged)s are already in it", unchanged) % values
    else:
        return ngettext("%(count)s contact will be deleted", "%(count)s contacts will be deleted", change) % values
    return f"{sentence}; {rest}" if unchanged else sentence


def set_contacts(job: Job) -> QuerySet:
    """The contacts of a bulk action's fixed set that still exist."""
    return Contact.objects.filter(pk__in=Member.objects.filter(job=job).values("contact_id"))


@transaction.atomic
def bulk_prepare(*, user, contacts: QuerySet, target: Target, filters: dict | None = None, language: str = "") -> Job:
    """Fix the set of `contacts` (among those `user` may see) that `target`
    will work on, and count exactly what it will change; nothing changes
    yet. Returns the draft job, which bulk_confirm() starts. `filters` is
    how the set was chosen, for the record."""
    reason = bulk_refusal(user=user, target=target)
    if reason:
        raise BulkError(reason)
    if user is not None:
        contacts = contacts.visible_to(user)
    job = Job.objects.create(
        kind=Job.Kind.BULK,
        user=user,
        status=Job.Status.DRAFT,
        parameters={**target.parameters, "filters": filters or {}, "language": language, "from_panel": bool(language)},
    )
    counts = _fix_and_count(job, contacts, target)
    if not counts.total:
        raise BulkError(_("No contact is selected."))
    job.total = counts.total
    job.result = {"preview": counts.as_dict()}
    job.save(update_fields=["total", "result"])
    return job


def _fix_and_count(job: Job, contacts: QuerySet, target: Target) -> Counts:
    """Write `contacts` as `job`'s set and count what `target` would change
    among them. On PostgreSQL in one statement, reading each contact once:
    the rows the INSERT takes are counted as they go in. Elsewhere the set
    is written, then counted."""
    job_id = Value(job.pk, output_field=IntegerField())
    if not database.writes_in_with():
        database.insert_from_select(Member, ["job_id", "contact_id"], contacts.order_by().values_list(job_id, "pk"))
        return bulk_count(contacts=set_contacts(job), target=target)
    changes = ExpressionWrapper(_changes(target), output_field=BooleanField())
    try:
        select, params = contacts.order_by().values_list(job_id, "pk", changes).query.sql_with_params()
    except EmptyResultSet:  # known empty without asking (.none(), pk__in=[])
        return Counts(0, 0)
    members = connection.ops.quote_name(Member._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH chosen (job_id, contact_id, changes) AS ({select}), "
            f"fixed AS (INSERT INTO {members} (job_id, contact_id) SELECT job_id, contact_id FROM chosen) "
            "SELECT count(*), count(*) FILTER (WHERE changes) FROM chosen",
            params,
        )
        total, change = cursor.fetchone()
    return Counts(total, change)


@transaction.atomic
def bulk_confirm(*, job: Job, user, typed: str = "", run_now: bool = False) -> Job:
    """Start the counted action. A delete needs the count typed. The
    permissions are checked again: they may have changed since the count."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.kind != Job.Kind.BULK or job.status != Job.Status.DRAFT:
        raise BulkError(_("This action was already confirmed."))
    target = Target.of(job)
    reason = bulk_refusal(user=user, target=target)
    if reason:
        raise BulkError(reason)
    if target.action == Action.DELETE and typed.strip().replace(".", "") != str(job.total):
        raise BulkError(_("Type the number of contacts to delete, %(count)s, to confirm.") % {"count": job.total})
    job.status = Job.Status.QUEUED
    job.save(update_fields=["status"])
    if not run_now:
        enqueue(job)
    return job


def bulk_run(job: Job) -> dict:
    """The work of a confirmed action, chunk by chunk (the job's run)."""
    target = Target.of(job)
    floor = _last_history_id()
    batch = current_actor().batch
    job.progress(0, job.total, force=True)
    changed = 0
    done = 0
    size = DELETE_CHUNK if target.action == Action.DELETE else CHUNK
    for members, bounds in _chunks(Member.objects.filter(job=job), size):
        with transaction.atomic():
            if target.action == Action.DELETE:
                changed += _delete(members)
            elif database.writes_in_with():
                changed += _change_at_once(job, bounds, target)
            else:
                changed += _change(members, target)
        done = min(done + size, job.total)
        job.progress(done, job.total)
    result = {
        "total": job.total,
        "changed": changed,
        "unchanged": job.total - changed,
        "history_floor": floor,
        "batch": str(batch) if batch else "",
    }
    audit_record(
        action=AuditEvent.Action.BULK_ACTION,
        parameters={**{k: v for k, v in job.parameters.items() if k != "language"}, "job": str(job.token)},
        counts={"contacts": job.total, "changed": changed},
    )
    job.finish(result=result, done=job.total)
    return result


def _last_history_id() -> int:
    return Contact.history.model.objects.order_by("-history_id").values_list("history_id", flat=True).first() or 0


def _chunks(members: QuerySet, size: int):
    """The set's rows in ascending chunks of contact ids: each chunk's rows
    and its bounds (the contact ids after `first` up to `last`, None when
    open)."""
    last = None
    while True:
        rest = members if last is None else members.filter(contact_id__gt=last)
        ids = rest.order_by("contact_id").values_list("contact_id", flat=True)
        edge = ids[size - 1 : size].first() if size > 1 else ids.first()
        if edge is None:
            if rest.exists():
                yield rest, (last, None)
            return
        yield rest.filter(contact_id__lte=edge), (last, edge)
        last = edge


def _exists_contact(**conditions):
    return Exists(Contact.objects.filter(pk=OuterRef("contact_id"), **conditions))


def _flag(condition: Q) -> ExpressionWrapper:
    """`condition` as the value a member's flag is set to, in one UPDATE
    of the chunk's members: PostgreSQL answers it for each member by index,
    or from a hash of the tag's links read once. As a filter it became a
    join, planned from statistics taken before the action gave the tag to
    the chunks before: told the tag had one link, the planner compared
    every member with every link (85 s for 100,000 contacts, and 500,000
    did not finish). The members table leaves room in its pages (migration
    0002), so a flag's new version goes beside the old one, no index
    written."""
    return ExpressionWrapper(condition, output_field=BooleanField())


def _change(members: QuerySet, target: Target) -> int:
    """One chunk of a tag or a move: mark which contacts it changes, change
    them, record them. Returns how many it changed."""
    marked = members.filter(changed=True)
    if target.action == Action.ADD_TAG:
        members.update(changed=_flag(Q(_exists_contact()) & ~Q(_has_tag(target.tag, "contact_id"))))
        changed = database.insert_from_select(
            Contact.tags.through,
            ["contact_id", "tag_id"],
            marked.values_list("contact_id", Value(target.tag.pk, output_field=IntegerField())),
            ignore_conflicts=True,
        )
    elif target.action == Action.REMOVE_TAG:
        members.update(changed=_flag(Q(_has_tag(target.tag, "contact_id"))))
        changed = _links(target.tag, marked).delete()[0]
    else:
        members.update(
            changed=_flag(Q(_exists_contact()) & ~Q(_exists_contact(wallet=target.wallet))),
            wallet_before_id=Subquery(Contact.objects.filter(pk=OuterRef("contact_id")).values("wallet_id")[:1]),
        )
        changed = Contact.objects.filter(pk__in=marked.values("contact_id")).update(wallet=target.wallet, updated_at=timezone.now())
    if changed:
        _record(marked)
    return changed


def _links(tag: Tag, members: QuerySet) -> QuerySet:
    """`tag`'s links to the contacts of `members`."""
    return Contact.tags.through.objects.filter(tag_id=tag.pk, contact_id__in=members.values("contact_id"))


def _delete(members: QuerySet) -> int:
    """One chunk of a delete, through the ORM's collector as a single
    delete goes: each contact's history keeps its last values, its extra
    fields and tag links go with it, its photo (and what other apps keep
    of it: contacts.deletion) once committed."""
    contacts = Contact.objects.filter(pk__in=list(members.values_list("contact_id", flat=True)))
    for contact in contacts.exclude(photo="").only("photo"):
        delete_file_after_commit(contact.photo)
    contacts_deleting(contact_ids=contacts.values("pk"))
    members.filter(_exists_contact()).update(changed=True)
    return contacts.delete()[1].get(Contact._meta.label, 0)


def _tags_history_model():
    return apps.get_model("contacts", "HistoricalContact_tags")


def _record(members: QuerySet) -> None:
    """A history record ("~") for each contact of `members`, as it is now,
    with its tags, attributed to the current recording: the records and
    their tags copied in the database (database.insert_with_children), no
    row through Python."""
    history = Contact.history.model
    tracked = [field.attname for field in history.tracked_fields]
    actor = current_actor()
    user = current_user()
    contact_ids = members.values("contact_id")
    database.insert_with_children(
        history,
        [*tracked, "history_date", "history_type", "history_user_id", "history_source", "history_batch"],
        Contact.objects.filter(pk__in=contact_ids).values_list(
            *tracked,
            Value(timezone.now(), output_field=DateTimeField()),
            Value("~", output_field=CharField()),
            Value(user.pk if user else None, output_field=IntegerField()),
            Value(actor.source, output_field=CharField()),
            Value(actor.batch, output_field=UUIDField()),
        ),
        key="id",
        child_model=_tags_history_model(),
        child_columns=["history_id", "id", "contact_id", "tag_id"],
        children=Contact.tags.through.objects.filter(contact_id__in=contact_ids),
        match="contact_id",
    )



# Where one statement may hold several writes (database.writes_in_with:
# PostgreSQL), a chunk is one statement. The write itself says which
# contacts it changed (the links an INSERT … ON CONFLICT DO NOTHING made,
# those a DELETE took, the contacts an UPDATE moved: its RETURNING), and
# the members' flags, the history records and their tags are written from
# those rows in the same statement: no pass to mark the members first, none
# to find the marked ones again, no look-up of the set for each tag link
# of a record (benchmarks/README.md, Bulk actions, second pass).


def _change_at_once(job: Job, bounds: tuple, target: Target) -> int:
    """_change in one statement. Returns how many contacts it changed."""
    members = chunk, params = _chunk_sql(job, bounds)
    tables = _tables()
    if target.action == Action.ADD_TAG:
        return _give_tag(target.tag, chunk, params, members=members, flag="changed = true")
    if target.action == Action.REMOVE_TAG:
        return _take_tag(target.tag, chunk, params, bounds, members=members, flag="changed = true")
    # The wallet each contact was in is read beside the row the UPDATE
    # writes. A contact moved by someone else meanwhile is left alone by
    # the undo whatever is kept here: its history says it changed since.
    write = (
        f"UPDATE {tables['contacts']} c SET wallet_id = %s, updated_at = %s "
        f"FROM {tables['members']} m JOIN {tables['contacts']} before ON before.id = m.contact_id "
        f"WHERE {chunk} AND c.id = m.contact_id AND c.wallet_id IS DISTINCT FROM %s "
        f"RETURNING c.id AS contact_id, before.wallet_id AS wallet_before_id, {_tracked('c')}"
    )
    return _write_and_record(
        write,
        [target.wallet.pk, timezone.now(), *params, target.wallet.pk],
        members=members,
        flag="changed = true, wallet_before_id = written.wallet_before_id",
        returns_contacts=True,
    )


def _give_tag(tag: Tag, chunk: str, params: list, *, members: tuple[str, list], flag: str) -> int:
    """Give `tag` to the members `m` that `chunk` names (see _chunk_sql)
    and record them (_write_and_record): an action's "add a tag" and the
    undo of "remove a tag"."""
    tables = _tables()
    write = (
        f"INSERT INTO {tables['links']} (contact_id, tag_id) SELECT m.contact_id, %s FROM {tables['members']} m "
        f"WHERE {chunk} AND EXISTS (SELECT 1 FROM {tables['contacts']} c WHERE c.id = m.contact_id) "
        "ON CONFLICT DO NOTHING RETURNING id AS link_id, contact_id, tag_id"
    )
    return _write_and_record(write, [tag.pk, *params], members=members, flag=flag, new_link=True)


def _take_tag(tag: Tag, chunk: str, params: list, bounds: tuple, *, members: tuple[str, list], flag: str) -> int:
    """Take `tag` from the members `m` that `chunk` names, whose contact
    ids lie within `bounds` (see _chunks), and record them: an action's
    "remove a tag" and the undo of "add a tag"."""
    tables = _tables()
    links, links_params = _within("l.contact_id", bounds)
    write = (
        f"DELETE FROM {tables['links']} l USING {tables['members']} m "
        f"WHERE {chunk} AND l.contact_id = m.contact_id AND l.tag_id = %s{links} RETURNING l.contact_id"
    )
    return _write_and_record(write, [*params, tag.pk, *links_params], members=members, flag=flag, dropped_tag=tag.pk)


def _tables() -> dict[str, str]:
    """The quoted names of the tables a chunk's statement reads and writes."""
    quote = connection.ops.quote_name
    models_ = {
        "members": Member,
        "contacts": Contact,
        "links": Contact.tags.through,
        "wallets": Wallet,
        "history": Contact.history.model,
        "history_tags": _tags_history_model(),
    }
    return {name: quote(model._meta.db_table) for name, model in models_.items()}


def _tracked(alias: str) -> str:
    """The history's copy of a contact's columns, read from `alias`."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in Contact.history.model.tracked_fields)


def _chunk_sql(job: Job, bounds: tuple, *, changed: bool = False) -> tuple[str, list]:
    """The condition on the members `m` of a chunk of `job`'s set (between
    `bounds`, see _chunks; only those the action changed if `changed`)."""
    within, params = _within("m.contact_id", bounds)
    return f"m.job_id = %s{within}{' AND m.changed' if changed else ''}", [job.pk, *params]


def _within(column: str, bounds: tuple) -> tuple[str, list]:
    """" AND `column` between `bounds`" (see _chunks). Said of a tag's links
    too, it lets the planner start from the chunk's contacts: it never knows
    how many members a new set has, and starting from the tag's links read
    them all for every chunk."""
    first, last = bounds
    sql, params = "", []
    if first is not None:
        sql += f" AND {column} > %s"
        params.append(first)
    if last is not None:
        sql += f" AND {column} <= %s"
        params.append(last)
    return sql, params


def _write_and_record(
    write: str, params: list, *, members: tuple[str, list], flag: str, new_link=False, dropped_tag=None, returns_contacts=False
) -> int:
    """Run `write` (an INSERT, DELETE or UPDATE returning the id of each
    contact it changed as contact_id) and, in the same statement, set
    `flag` on those contacts' members (`members`: the chunk's, see
    _chunk_sql; `written` is the write's row), and
    write each of them a history record ("~") as it is now, with its tags,
    attributed to the current recording: as _record does. The statement
    sees the tables as they were before it, so the record's tags are the
    contact's links but the one `write` took (`dropped_tag`), plus the one
    it made (`new_link`: it returned link_id and tag_id); a record of a
    contact `write` updated is made from the row it returned
    (`returns_contacts`: the history's columns, see _tracked). Returns how
    many contacts `write` changed."""
    tables = _tables()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in Contact.history.model.tracked_fields)
    source = "written c" if returns_contacts else f"{tables['contacts']} c JOIN written ON c.id = written.contact_id"
    tags = f"SELECT r.history_id, l.id, l.contact_id, l.tag_id FROM records r JOIN {tables['links']} l ON l.contact_id = r.id"
    tags_params = []
    if dropped_tag is not None:
        tags += " AND l.tag_id <> %s"
        tags_params.append(dropped_tag)
    if new_link:
        tags += " UNION ALL SELECT r.history_id, written.link_id, written.contact_id, written.tag_id FROM records r JOIN written ON written.contact_id = r.id"
    actor, user = current_actor(), current_user()
    sql = (
        f"WITH written AS ({write}), "
        # The chunk's members are read once, not looked up one by one.
        f"flagged AS (UPDATE {tables['members']} m SET {flag} FROM written WHERE {members[0]} AND m.contact_id = written.contact_id), "
        f"records AS (INSERT INTO {tables['history']} ({columns}, history_date, history_type, history_user_id, history_source, history_batch) "
        f"SELECT {_tracked('c')}, %s, '~', %s::integer, %s, %s::uuid FROM {source} RETURNING history_id, id), "
        f"tagged AS (INSERT INTO {tables['history_tags']} (history_id, id, contact_id, tag_id) {tags}) "
        "SELECT count(*) FROM written"
    )
    record_params = [timezone.now(), user.pk if user else None, actor.source, actor.batch]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *members[1], *record_params, *tags_params])
        return cursor.fetchone()[0]


# Undo.


def undo_blocker(job: Job, user) -> str:
    """Why this action cannot be undone now ("" when it can)."""
    if job.kind != Job.Kind.BULK or job.parameters.get("action") not in UNDOABLE:
        return _("Only tags and wallet moves can be undone.")
    if job.status != Job.Status.DONE:
        return _("Only a finished action can be undone.")
    if job.result.get("undone_by"):
        return _("This action was already undone.")
    if job.files_expired:
        days = settings.JOB_FILE_RETENTION_DAYS
        return ngettext(
            "An action can be undone for %(days)s day only.", "An action can be undone for %(days)s days only.", days
        ) % {"days": days}
    try:
        target = Target.of(job)
    except BulkError as error:
        return str(error)
    # Whoever may do the action may undo it (a move back needs no more).
    return bulk_refusal(user=user, target=target)


@transaction.atomic
def bulk_undo_start(*, job: Job, user, language: str = "", run_now: bool = False) -> Job:
    """Queue the undo of a finished tag or move (a job of its own)."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    reason = undo_blocker(job, user)
    if reason:
        raise BulkError(reason)
    undo = Job.objects.create(
        kind=Job.Kind.BULK_UNDO,
        user=user,
        total=job.result.get("changed", 0),
        parameters={**{k: v for k, v in job.parameters.items() if k != "filters"}, "of": job.pk, "language": language},
    )
    job.result = {**job.result, "undone_by": str(undo.token)}
    job.save(update_fields=["result"])
    if not run_now:
        enqueue(undo)
    return undo


def bulk_undo_run(undo: Job) -> dict:
    """Give each contact the action changed what it had before, unless it
    was changed since (a history record after the action's that is not
    the action's own), deleted, or (a move) is in another wallet now, or
    its earlier wallet is gone."""
    job = Job.objects.get(pk=undo.parameters["of"])
    target = Target.of(job)
    history = Contact.history.model
    later = history.objects.filter(id=OuterRef("contact_id"), history_id__gt=job.result.get("history_floor", 0)).exclude(
        history_batch=job.result.get("batch") or None
    )
    undo.progress(0, undo.total, force=True)
    restored = 0
    done = 0
    for members, bounds in _chunks(Member.objects.filter(job=job, changed=True), CHUNK):
        with transaction.atomic():
            if database.writes_in_with():
                restored += _restore_at_once(job, bounds, target)
            else:
                restored += _restore(members, job, target, ~Exists(later))
        done = min(done + CHUNK, undo.total)
        undo.progress(done, undo.total)
    result = {"total": undo.total, "restored": restored, "left": undo.total - restored, "of": str(job.token)}
    audit_record(
        action=AuditEvent.Action.BULK_UNDO,
        parameters={**{k: v for k, v in job.parameters.items() if k not in ("language", "filters")}, "job": str(job.token)},
        counts={"contacts": undo.total, "restored": restored},
    )
    undo.finish(result=result, done=undo.total)
    return result


def _restore(members: QuerySet, job: Job, target: Target, unchanged_since) -> int:
    """One chunk of an undo: mark which contacts get back what they had
    (each asked, as in _change), give it back, record them."""
    marked = members.filter(undone=True)
    if target.action == Action.ADD_TAG:
        members.update(undone=_flag(Q(unchanged_since) & Q(_has_tag(target.tag, "contact_id"))))
        restored = _links(target.tag, marked).delete()[0]
    elif target.action == Action.REMOVE_TAG:
        members.update(undone=_flag(Q(unchanged_since) & Q(_exists_contact()) & ~Q(_has_tag(target.tag, "contact_id"))))
        restored = database.insert_from_select(
            Contact.tags.through,
            ["contact_id", "tag_id"],
            marked.values_list("contact_id", Value(target.tag.pk, output_field=IntegerField())),
            ignore_conflicts=True,
        )
    else:
        earlier_wallet = Q(wallet_before_id__isnull=True) | Q(Exists(Wallet.objects.filter(pk=OuterRef("wallet_before_id"))))
        members.update(undone=_flag(Q(unchanged_since) & earlier_wallet & Q(_exists_contact(wallet=target.wallet))))
        # Each contact's own member row, by the set's unique index.
        before = Member.objects.filter(job=job, contact_id=OuterRef("pk"))
        restored = Contact.objects.filter(pk__in=marked.values("contact_id")).update(
            wallet_id=Subquery(before.values("wallet_before_id")[:1]), updated_at=timezone.now()
        )
    if restored:
        _record(marked)
    return restored


def _restore_at_once(job: Job, bounds: tuple, target: Target) -> int:
    """_restore in one statement (see _write_and_record). Returns how many
    contacts it restored."""
    members = _chunk_sql(job, bounds)
    chunk, params = _chunk_sql(job, bounds, changed=True)
    tables = _tables()
    # Not changed since: no history record after the action's start that is
    # not the action's own (its batch; IS DISTINCT FROM, as the ORM's
    # exclude() reads a missing batch).
    chunk += (
        f" AND NOT EXISTS (SELECT 1 FROM {tables['history']} h WHERE h.id = m.contact_id AND h.history_id > %s "
        "AND h.history_batch IS DISTINCT FROM %s::uuid)"
    )
    params += [job.result.get("history_floor", 0), job.result.get("batch") or None]
    if target.action == Action.ADD_TAG:
        return _take_tag(target.tag, chunk, params, bounds, members=members, flag="undone = true")
    if target.action == Action.REMOVE_TAG:
        return _give_tag(target.tag, chunk, params, members=members, flag="undone = true")
    write = (
        f"UPDATE {tables['contacts']} c SET wallet_id = m.wallet_before_id, updated_at = %s FROM {tables['members']} m "
        f"WHERE {chunk} AND c.id = m.contact_id AND c.wallet_id = %s "
        f"AND (m.wallet_before_id IS NULL OR EXISTS (SELECT 1 FROM {tables['wallets']} w WHERE w.id = m.wallet_before_id)) "
        f"RETURNING c.id AS contact_id, {_tracked('c')}"
    )
    return _write_and_record(write, [timezone.now(), *params, target.wallet.pk], members=members, flag="undone = true", returns_contacts=True)
