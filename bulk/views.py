"""The list's bulk actions: choosing what to do with the rows ticked (or
every result of the search), then, on the job's page, the count to
confirm, the progress, the result and its undo."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.views.generic import FormView

from contacts.filters import ContactFilter
from contacts.ids import ids_of
from contacts.models import Contact

from .forms import BulkForm
from .models import Action
from .services import BulkError, Target, bulk_confirm, bulk_prepare, bulk_undo_start, counts_sentence, undo_blocker


#: Sent by this page's own form, not by the list's bar.
ASKED = "asked"


class BulkStartView(PermissionRequiredMixin, FormView):
    """The bulk bar's buttons post here: the selection (ids, or every
    result of the list's query) and the action. What is missing (which
    tag, which wallet) is asked on this page; then the set is fixed and
    counted, and the job's page asks for the confirmation."""

    permission_required = "contacts.change_contact"
    form_class = BulkForm
    template_name = "bulk/start.html"
    http_method_names = ["post"]

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_invalid(self, form):
        if not self.request.POST.get(ASKED):
            # Come from the list's bar: the tag or wallet is asked on this
            # page, not missed yet.
            for name in ("tag", "wallet"):
                if not self.request.POST.get(name) and form.has_error(name, "required"):
                    del form.errors[name]
        return self.render_to_response(self.get_context_data(form=form, selected=self.selected_count(form)), status=200)

    def selected_count(self, form) -> int | None:
        if form.cleaned_data.get("all") if hasattr(form, "cleaned_data") else self.request.POST.get("all"):
            return None
        return len(ids_of(self.request.POST.getlist("contact")))

    def form_valid(self, form):
        data = form.cleaned_data
        if data["action"] == BulkForm.EXPORT:
            return HttpResponseRedirect(self.export_url(data))
        try:
            contacts, filters = self.chosen(data)
            target = Target(data["action"], tag=data.get("tag"), wallet=data.get("wallet"))
            job = bulk_prepare(
                user=self.request.user, contacts=contacts, target=target, filters=filters, language=self.request.LANGUAGE_CODE
            )
        except BulkError as error:
            form.add_error(None, str(error))
            return self.form_invalid(form)
        return HttpResponseRedirect(job.get_absolute_url())

    def export_url(self, data) -> str:
        """The export page, for the same selection: the list's query, and
        the rows ticked unless every result was chosen."""
        query = QueryDict(data.get("query") or "", mutable=True)
        query.pop("page", None)
        if not data.get("all"):
            query.setlist("contact", [str(pk) for pk in data["contact"]])
        return reverse("contacts:export") + ("?" + query.urlencode() if query else "")

    def chosen(self, data) -> tuple:
        """The contacts chosen, among those the user may see: every result
        of the list's query, or the rows ticked (among those results)."""
        query = QueryDict(data.get("query") or "", mutable=True)
        for key in ("page", "per_page", "sort"):
            query.pop(key, None)
        filterset = ContactFilter(query, queryset=Contact.objects.visible_to(self.request.user), request=self.request)
        contacts = filterset.qs
        if getattr(filterset, "segment_problem", ""):
            # A saved segment that no longer applies as saved acts on nothing, never on more.
            raise BulkError(filterset.segment_problem)
        filters = {"query": filterset.query_string}
        if not data.get("all"):
            contacts = contacts.filter(pk__in=data["contact"])
            filters["selected"] = len(data["contact"])
        return contacts, filters


def bulk_page_context(job, request, **kwargs) -> dict:
    """The job's page: the count to confirm (a draft), the undo (a done
    action), the action it undid (an undo)."""
    context = {"action_label": Action(job.parameters["action"]).label, "Action": Action}
    try:
        target = Target.of(job)
    except BulkError as error:
        target = None
        context["target_error"] = str(error)
    if job.status == job.Status.DRAFT and target is not None:
        from .services import Counts

        preview = job.result.get("preview", {})
        context["sentence"] = counts_sentence(target, Counts(preview.get("total", 0), preview.get("change", 0)))
    if job.kind == job.Kind.BULK and job.status == job.Status.DONE:
        context["undo_blocker"] = undo_blocker(job, request.user)
        if job.result.get("undone_by"):
            context["undo_url"] = reverse("jobs:detail", args=[job.result["undone_by"]])
    if job.kind == job.Kind.BULK_UNDO:
        context["undone_url"] = reverse("jobs:detail", args=[job.result.get("of")]) if job.result.get("of") else ""
    return context


def bulk_page_post(view, request, job):
    """Confirm a counted action, or undo a finished one."""
    try:
        if request.POST.get("undo"):
            undo = bulk_undo_start(job=job, user=request.user, language=request.LANGUAGE_CODE)
            return HttpResponseRedirect(undo.get_absolute_url())
        bulk_confirm(job=job, user=request.user, typed=request.POST.get("typed", ""))
    except BulkError as error:
        messages.error(request, str(error))
    return HttpResponseRedirect(job.get_absolute_url())
