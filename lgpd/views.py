"""A contact's "LGPD" tab: the data subject's report (a JSON download and
a readable page) and the erasure of their data, for administrators."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import DetailView, FormView

from audit.models import AuditEvent
from audit.services import audit_record
from contacts.models import Contact
from contacts_portal.htmx import HtmxTemplateMixin

from .erasure import erasure_counts, personal_data_erase, was_erased
from .forms import ErasureForm
from .report import build_report, report_json
from .traces import traces_of


class SubjectMixin(PermissionRequiredMixin):
    """The contact the request is about, among those the user may see."""

    def get_object(self, queryset=None):
        return get_object_or_404(Contact.objects.visible_to(self.request.user), pk=self.kwargs["contact_id"])


class ContactLgpdView(HtmxTemplateMixin, SubjectMixin, DetailView):
    """The contact's "LGPD" tab (registered in contacts.tabs): the report's
    links and "Apagar dados pessoais"."""

    permission_required = "lgpd.report_personal_data"
    context_object_name = "object"
    template_name = "lgpd/contact_lgpd.html"
    partial_template_name = "lgpd/_contact_lgpd.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(erased=was_erased(self.object), **kwargs)


def _record_report(contact: Contact, how: str) -> None:
    audit_record(action=AuditEvent.Action.LGPD_REQUEST, parameters={"request": "report", "contact": contact.pk, "format": how})


class ReportDownloadView(SubjectMixin, DetailView):
    """"Relatório LGPD": everything we hold about the person, as JSON."""

    permission_required = "lgpd.report_personal_data"

    def get(self, request, *args, **kwargs):
        contact = self.get_object()
        body = report_json(traces_of(contact))
        _record_report(contact, "json")
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="relatorio-lgpd-contato-{contact.pk}.json"'
        response["Cache-Control"] = "no-store"
        return response


class ReportPageView(SubjectMixin, DetailView):
    """The same report as a readable page, to print (or save as PDF)."""

    permission_required = "lgpd.report_personal_data"
    context_object_name = "object"
    template_name = "lgpd/report.html"

    def get_context_data(self, **kwargs):
        report = build_report(traces_of(self.object))
        _record_report(self.object, "page")
        labels = {field.name: field.verbose_name for field in Contact._meta.get_fields() if hasattr(field, "verbose_name")}
        shown = {**report["contact"], "number": report["contact"]["number_formatted"] or report["contact"]["number"]}
        shown.pop("number_formatted")
        fields = [(labels.get(name, name), _("yes") if value is True else _("no") if value is False else value) for name, value in shown.items()]
        return super().get_context_data(report=report, fields=fields, **kwargs)

    def render_to_response(self, context, **kwargs):
        response = super().render_to_response(context, **kwargs)
        response["Cache-Control"] = "no-store"
        return response


class ErasureView(SubjectMixin, FormView):
    """"Apagar dados pessoais": what will go and what stays, and the
    contact's name typed to confirm."""

    permission_required = "lgpd.erase_personal_data"
    form_class = ErasureForm
    template_name = "lgpd/erase.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and self.has_permission():
            self.object = self.get_object()
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "contact": self.object}

    def get_context_data(self, **kwargs):
        traces = traces_of(self.object)
        return super().get_context_data(object=self.object, counts=erasure_counts(traces), erased=was_erased(self.object), **kwargs)

    def form_valid(self, form):
        erasure = personal_data_erase(contact=self.object, user=self.request.user)
        messages.success(self.request, _("The personal data of contact #%(id)s was erased.") % {"id": erasure.contact_id})
        return HttpResponseRedirect(reverse("lgpd:contact", args=[self.object.pk]))
