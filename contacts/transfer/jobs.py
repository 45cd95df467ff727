"""Importar and Exportar as jobs: what a worker runs for an import's
preview, the import itself and an export, registered with the jobs app."""

import tempfile
from contextlib import contextmanager

from django.core.files import File
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import AuditEvent
from audit.recording import Source, current_actor
from audit.services import audit_record
from jobs.registry import JobKind, register
from jobs.tasks import JobError

from ..models import Contact, Wallet

PREVIEW_ERRORS = 20  # rejected rows (and conflicts) kept in a job's result


@contextmanager
def _spreadsheet_errors():
    """A file that cannot be read says why, in the user's words (a sheet
    is read as the rows are planned, so this can come late)."""
    from .reading import SpreadsheetError

    try:
        yield
    except SpreadsheetError as error:
        raise JobError(str(error)) from None


def _table(job):
    from .reading import read_table

    # Read whole into a temporary copy the parser can seek in, whatever
    # the storage is (an object store's files are not seekable).
    copy = tempfile.TemporaryFile()
    with job.source_file.open("rb") as file:
        for chunk in file.chunks():
            copy.write(chunk)
    copy.seek(0)
    return read_table(copy)


def _importer_options(job) -> dict:
    parameters = job.parameters
    wallet = Wallet.objects.filter(pk=parameters.get("wallet")).first() if parameters.get("wallet") else None
    return {
        "mapping": parameters.get("mapping"),
        "wallet": wallet,
        "tag": parameters.get("tag", ""),
        "conflicts": parameters.get("conflicts") or "skip",
    }


def _result(result) -> dict:
    """What the page shows: the counts, the first rejected rows, the rows
    imported without a cell they could do without (how many, and the first
    ones' warnings), the first conflicts and how many rows repeat a number."""
    return {
        **result.counts(),
        "warned": result.warned,
        "errors": [[number, message] for number, _cells, message in result.errors[:PREVIEW_ERRORS]],
        "warnings": [[number, " ".join(messages)] for number, _cells, messages in result.warnings[:PREVIEW_ERRORS]],
        "conflict_rows": [list(conflict) for conflict in result.conflict_rows[:PREVIEW_ERRORS]],
        "conflicts_found": len(result.conflict_rows),
        "repeated_numbers": result.repeated_numbers,
    }


def preview(job) -> dict:
    from .importing import import_contacts
    from .preview import RowLog

    outcomes = RowLog()
    with _spreadsheet_errors():
        result = import_contacts(table=_table(job), dry_run=True, progress=job.progress, outcomes=outcomes, **_importer_options(job))
    # Each row's account, read back a page at a time by the preview's page.
    outcomes.file.seek(0)
    job.result_file.save("previa.txt", File(outcomes.file), save=False)
    job.finish(
        result_file=job.result_file.name,
        total=result.rows,
        done=result.rows,
        result={**_result(result), "kinds": outcomes.counts},
    )


def run_import(job) -> None:
    from ..models import Contact
    from .importing import import_file, rejected_rows

    # The import's history records are those of this job's batch after the
    # last record before it: "Ver os contatos" finds the contacts it
    # created and updated through them, with nothing more to write.
    after = Contact.history.order_by("-history_id").values_list("history_id", flat=True).first() or 0
    with _spreadsheet_errors():
        result = import_file(
            read=lambda: _table(job), file_name=job.parameters.get("file_name", ""), progress=job.progress, **_importer_options(job)
        )
    if result.errors or result.warnings:
        job.report_file.save("erros.xlsx", File(_write_report(rejected_rows(result))), save=False)
    job.finish(
        report_file=job.report_file.name,
        total=result.rows,
        done=result.rows,
        result={**_result(result), "touched": {"batch": str(current_actor().batch), "after": after}},
    )


def _write_report(rows):
    import xlsxwriter

    from .exporting import XLSX_TEXT_ONLY, excel_text

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


def export_parts(parameters: dict, user) -> tuple[QuerySet, list[QuerySet]]:
    """The contacts an export covers, as the panel's list shows them: the
    same filter (search, wallet, tags, type, birthday, saved segment, sort,
    the import that touched them) among what the user may see, in the
    same order. Returns the queryset and its parts in list order (a name
    search lists the names starting with its first word first, then the
    other matches)."""
    from ..filters import ContactFilter
    from ..pagination import name_search_parts

    data = QueryDict(mutable=True)
    for key in ContactFilter.SINGLE_VALUED:
        if key == "imported":
            continue  # applied below, with the user's own job
        if parameters.get(key):
            data[key] = str(parameters[key])
    data.setlist("tag", [str(pk) for pk in parameters.get("tag") or []])
    contacts = Contact.objects.visible_to(user)
    if parameters.get("imported"):
        # "Ver os contatos" of an import, then Exportar: its contacts only.
        from ..filters import imported_job, touched_by_import

        contacts = touched_by_import(contacts, imported_job(user, parameters["imported"]))
    if parameters.get("contacts"):
        contacts = contacts.filter(pk__in=parameters["contacts"])
    filterset = ContactFilter.for_user(user, data, queryset=contacts)
    queryset = filterset.qs
    parts = []
    if filterset.unsearched_qs is not None and filterset.sorted_by_name:
        parts = [part.order_by("name_key", "id") for part, _in_order in name_search_parts(filterset.unsearched_qs, queryset, filterset.search_query)]
    return queryset, parts or [queryset]


def export(job) -> None:
    from .exporting import write_csv, write_xlsx

    queryset, parts = export_parts(job.parameters, job.user)
    total = queryset.count()
    job.progress(0, total, force=True)
    fmt = job.parameters.get("format", "xlsx")
    writer = write_csv if fmt == "csv" else write_xlsx
    output, count = writer(queryset, parts=parts, progress=lambda done: job.progress(done, total))
    name = f"contatos-{timezone.localtime():%Y-%m-%d-%H%M}.{fmt}"
    job.result_file.save(name, File(output), save=False)
    job.finish(result_file=job.result_file.name, total=count, done=count, result={"rows": count, "format": fmt})
    audit_record(
        action=AuditEvent.Action.EXPORT,
        user=job.user,
        source=Source.PANEL if job.parameters.get("from_panel") else Source.COMMAND,
        parameters={key: job.parameters.get(key) for key in ("q", "wallet", "tag", "type", "birthday", "segment", "sort", "imported", "format") if job.parameters.get(key)}
        | {"file": name},
        counts={"rows": count},
    )


def register_kinds() -> None:
    from .views import import_page_context, import_page_post

    common = {
        "page_template": "contacts/job.html",
        "failure_note": _("Nothing was written."),
        "rerun": True,
        "listed": True,
    }
    importing = {"permission": "contacts.import_contacts", "start_url": "contacts:import"}
    register(
        "import_preview",
        JobKind(
            run=preview,
            source=Source.IMPORT,
            result_template="contacts/_import_result.html",
            running=_("Reading and checking every row; nothing is written yet…"),
            context=import_page_context,
            post=import_page_post,
            **importing,
            **common,
        ),
    )
    register(
        "import",
        JobKind(run=run_import, source=Source.IMPORT, result_template="contacts/_import_result.html", running=_("Importing…"), **importing, **common),
    )
    register(
        "export",
        JobKind(
            run=export,
            source=Source.COMMAND,
            result_template="contacts/_export_result.html",
            running=_("Writing the file…"),
            permission="contacts.export_contacts",
            **common,
        ),
    )
