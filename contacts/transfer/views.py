"""Importar / Exportar: the upload, the column mapping, the export's
choices; the jobs they start are shown by the jobs app."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.generic import FormView, View

from jobs.models import Job
from jobs.tasks import enqueue
from jobs.views import UserJobMixin

from ..filters import ContactFilter
from ..ids import ids_of
from ..models import Wallet
from .columns import COLUMNS, EXTRA, IGNORE, clean_mapping, extra_name, guess_mapping
from .exporting import XLSX_TEXT_ONLY
from .planning import OVERWRITE, SKIP
from .preview import FLAGGED, PreviewRows
from .reading import SpreadsheetError, read_table, survey
from .reading.tables import _thousands

SAMPLE_ROWS = 3


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet"),
        help_text=gettext_lazy("Excel (.xlsx) or CSV, with the column names in the first row."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "class": "form-control"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_FILE_BYTES:
            raise ValidationError(
                _("The file is too large: send one of up to %(size)d MB.") % {"size": settings.IMPORT_MAX_FILE_BYTES // (1024 * 1024)}
            )
        try:
            # Read through to the end: a file over a cap is refused here, and
            # the mapping learns which columns hold data.
            self.survey = survey(read_table(upload), sample_rows=SAMPLE_ROWS)
        except SpreadsheetError as error:
            raise ValidationError(str(error)) from None
        upload.seek(0)
        return upload


class ImportView(PermissionRequiredMixin, FormView):
    """Step 1: the file. It is read at once, so a file that is not a
    spreadsheet is said here, not after a wait."""

    permission_required = "contacts.import_contacts"
    form_class = ImportUploadForm
    template_name = "contacts/import.html"

    def form_valid(self, form):
        upload = form.cleaned_data["file"]
        job = Job(
            kind=Job.Kind.IMPORT_PREVIEW,
            user=self.request.user,
            status=Job.Status.DRAFT,
            file_name=upload.name[:255],
            parameters={"headers": form.survey.headers, "columns": form.survey.columns, "sample": form.survey.sample, "values": form.survey.values},
        )
        job.source_file.save("planilha", upload, save=False)
        job.save()
        return HttpResponseRedirect(job.get_absolute_url())


class MappingForm(forms.Form):
    """Step 2: what each column holds, an optional wallet and tag for every
    row. Each column's field is "<contact field>", "extra:<name>" or ""."""

    wallet = forms.ModelChoiceField(queryset=Wallet.objects.all(), required=False, label=gettext_lazy("Put every row in the wallet"), empty_label=gettext_lazy("Keep the wallet of each row"))
    tag = forms.CharField(required=False, max_length=50, label=gettext_lazy("Add the tag to every row"))

    def __init__(self, *args, job, **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        # Only the columns that hold data, each field named by its place
        # among them: a sheet thousands of columns wide, most of them
        # empty, is a short form (and a POST under Django's field limit).
        self.headers = job.parameters["headers"]
        self.positions = job.parameters.get("columns") or list(range(len(self.headers)))
        saved = job.parameters.get("mapping")
        guessed = [saved[p] if p < len(saved) else IGNORE for p in self.positions] if saved else guess_mapping(self.headers)
        choices = [(column.field, column.label) for column in COLUMNS]
        for index, header in enumerate(self.headers):
            extra = EXTRA + (extra_name(header) or f"Coluna {self.positions[index] + 1}")
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or _("(no name)"),
                choices=[*choices, (extra, _("Additional information “%(name)s”") % {"name": extra[len(EXTRA) :]}), (IGNORE, _("Leave out"))],
                initial=guessed[index] if index < len(guessed) else IGNORE,
                required=False,
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )
        self.fields["wallet"].widget.attrs["class"] = "form-select"
        self.fields["tag"].widget.attrs["class"] = "form-control"

    def columns(self):
        sample = self.job.parameters.get("sample", [])
        for index, header in enumerate(self.headers):
            values = [row[index] for row in sample if index < len(row) and row[index]]
            yield self[f"column_{index}"], header, values

    def clean(self):
        cleaned = super().clean()
        try:
            chosen = clean_mapping(self.headers, [cleaned.get(f"column_{i}", IGNORE) or IGNORE for i in range(len(self.headers))])
        except ValidationError as error:
            raise ValidationError(error.messages) from None
        self._check_extra_values(chosen)
        # The importer's mapping goes by the file's columns: the empty ones are left out.
        mapping = [IGNORE] * (max(self.positions, default=-1) + 1)
        for position, choice in zip(self.positions, chosen, strict=True):
            mapping[position] = choice
        cleaned["mapping"] = mapping
        cleaned["tag"] = " ".join((cleaned.get("tag") or "").split())
        return cleaned

    def _check_extra_values(self, chosen: list[str]) -> None:
        """The cells of the columns chosen as additional information, as the
        upload counted them, fit IMPORT_MAX_EXTRA_VALUES: said here, before
        the user waits for the preview (whose job counts them again, with
        the second values of cells that hold several)."""
        counted = self.job.parameters.get("values")
        if counted is None:  # a draft from before the upload counted them
            return
        values = sum(count for choice, count in zip(chosen, counted, strict=False) if choice.startswith(EXTRA))
        limit = settings.IMPORT_MAX_EXTRA_VALUES
        if values > limit:
            raise ValidationError(
                _(
                    "The columns chosen as additional information hold %(count)s values; an import accepts at most %(limit)s. "
                    "Choose “Leave out” for those you do not need, or split the file."
                )
                % {"count": _thousands(values), "limit": _thousands(limit)}
            )


class ImportConfirmForm(forms.Form):
    """Step 3: what rows that would replace a contact's number, Telegram id
    or CPF/CNPJ do."""

    conflicts = forms.ChoiceField(
        choices=[
            (SKIP, gettext_lazy("Leave those rows out: the contacts keep their values")),
            (OVERWRITE, gettext_lazy("Overwrite: the contacts get the file's values")),
        ],
        initial=SKIP,
        required=False,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        label=gettext_lazy("Rows in conflict"),
    )


#: The preview's row lists: the query's `show` -> its tab's words.
PREVIEW_TABS = {
    "all": pgettext_lazy("rows", "All"),
    "conflict": gettext_lazy("Conflicts"),
    "created": gettext_lazy("To create"),
    "updated": gettext_lazy("To update"),
    "unchanged": gettext_lazy("Unchanged"),
    "rejected": gettext_lazy("Rejected"),
    FLAGGED: gettext_lazy("With warnings"),
}
PREVIEW_PAGE_SIZE = 50


def import_page_context(job, request, **kwargs) -> dict:
    """A preview waiting for its column choices shows them; a finished one,
    its rows a page at a time, and the choice about conflicts."""
    if job.status == Job.Status.DRAFT:
        return {"form": kwargs.get("form") or MappingForm(job=job)}
    if job.status != Job.Status.DONE or not job.result_file or "kinds" not in job.result:
        return {}
    counts = {**job.result["kinds"], "all": job.result.get("rows", 0)}
    tabs = [(key, words, counts.get(key, 0)) for key, words in PREVIEW_TABS.items() if key == "all" or counts.get(key)]
    show = request.GET.get("show")
    if show not in dict((key, 0) for key, _words, _count in tabs):
        show = "conflict" if counts.get("conflict") else "all"
    rows = PreviewRows(job.result_file, show=show, count=counts[show])
    try:
        page = Paginator(rows, PREVIEW_PAGE_SIZE).get_page(request.GET.get("page"))
    except FileNotFoundError:
        return {}  # the rows' file is gone: the counts and the first rejected rows still show
    return {"preview_tabs": tabs, "preview_show": show, "page_obj": page, "confirm_form": kwargs.get("confirm_form") or ImportConfirmForm()}


def import_page_post(view, request, job):
    """The column choices are made: the preview runs."""
    if job.status != Job.Status.DRAFT or not request.user.has_perm("contacts.import_contacts"):
        raise Http404
    form = MappingForm(request.POST, job=job)
    if not form.is_valid():
        return view.render_to_response(view.get_context_data(form=form))
    job.parameters |= {
        "mapping": form.cleaned_data["mapping"],
        "wallet": form.cleaned_data["wallet"].pk if form.cleaned_data["wallet"] else None,
        "tag": form.cleaned_data["tag"],
        "language": request.LANGUAGE_CODE,
    }
    job.status = Job.Status.QUEUED
    job.save(update_fields=["parameters", "status"])
    enqueue(job)
    return HttpResponseRedirect(job.get_absolute_url())


class ImportConfirmView(UserJobMixin, PermissionRequiredMixin, View):
    """Step 3: the preview looked right; the import runs, with the same file
    and choices."""

    permission_required = "contacts.import_contacts"

    def post(self, request, token):
        preview = get_object_or_404(self.get_queryset(), token=token, kind=Job.Kind.IMPORT_PREVIEW, status=Job.Status.DONE)
        form = ImportConfirmForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Choose what to do with the rows in conflict."))
            return HttpResponseRedirect(preview.get_absolute_url())
        job = Job.objects.create(
            kind=Job.Kind.IMPORT,
            user=request.user,
            file_name=preview.file_name,
            source_file=preview.source_file.name,
            parameters={
                **preview.parameters,
                "file_name": preview.file_name,
                "preview": str(preview.token),
                "conflicts": form.cleaned_data["conflicts"] or SKIP,
            },
            total=preview.total,  # the preview counted the file's rows: the bar and the time left need it
        )
        enqueue(job)
        return HttpResponseRedirect(job.get_absolute_url())


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        choices=[("xlsx", gettext_lazy("Excel (.xlsx)")), ("csv", gettext_lazy("CSV (;), UTF-8"))],
        initial="xlsx",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        label=gettext_lazy("Format"),
    )


class ExportView(PermissionRequiredMixin, FormView):
    """Exportar: what the panel shows (its search and filters, among the
    contacts the user may see), as a spreadsheet made by a worker."""

    permission_required = "contacts.export_contacts"
    form_class = ExportForm
    template_name = "contacts/export.html"

    def filterset(self):
        return ContactFilter(self.request.GET.copy(), request=self.request)

    def get_context_data(self, **kwargs):
        filterset = self.filterset()
        ticked = len(ids_of(self.request.GET.getlist("contact")))
        return super().get_context_data(filter=filterset, ticked=ticked, **kwargs)

    def form_valid(self, form):
        filterset = self.filterset()
        filterset.is_valid()  # drops what cannot apply
        if filterset.segment_problem:
            # A segment that no longer applies as saved exports nothing, rather than more.
            form.add_error(None, filterset.segment_problem)
            return self.form_invalid(form)
        data = filterset.data
        parameters = {
            **{key: data.get(key, "") for key in ContactFilter.SINGLE_VALUED},
            "tag": ids_of(data.getlist("tag")),
            # The rows ticked in the list (its bulk "Exportar"), among the filter's.
            "contacts": sorted(set(ids_of(data.getlist("contact")))),
            "format": form.cleaned_data["format"],
            "from_panel": True,
            "language": self.request.LANGUAGE_CODE,
        }
        job = Job.objects.create(kind=Job.Kind.EXPORT, user=self.request.user, parameters=parameters)
        enqueue(job)
        return HttpResponseRedirect(job.get_absolute_url())


class ImportTemplateView(PermissionRequiredMixin, View):
    """"Baixar modelo": the headers and one example row."""

    permission_required = "contacts.import_contacts"

    def get(self, request):
        import datetime
        import io

        import xlsxwriter

        from .columns import HEADERS

        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, XLSX_TEXT_ONLY)
        sheet = workbook.add_worksheet("Contatos")
        bold = workbook.add_format({"bold": True})
        date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
        example = ["Maria da Silva", "+5511987654321", "maria@exemplo.com.br", "529.982.247-25", None, "Maria", "da Silva", "Padaria Pão Quente", "", "Cliente, VIP", "", "Gerente"]
        for column, header in enumerate([*HEADERS, "Cargo"]):
            sheet.write_string(0, column, header, bold)
            sheet.set_column(column, column, 18)
        for column, value in enumerate(example):
            if column == 4:
                sheet.write_datetime(1, column, datetime.datetime(1990, 1, 1), date_format)
            elif value:
                sheet.write_string(1, column, value)
        workbook.close()
        output.seek(0)
        return FileResponse(output, as_attachment=True, filename="modelo-contatos.xlsx")
