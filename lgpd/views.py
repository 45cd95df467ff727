"""A contact's "LGPD" tab: the data subject's report (a JSON download and
a readable page), for administrators."""

from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.generic import DetailView

from audit.models import AuditEvent
from audit.services import audit_record
from contacts.models import Contact
from contacts_portal.htmx import HtmxTemplateMixin

from .report import build_report, report_json
from .traces import traces_of


class SubjectMixin(PermissionRequiredMixin):
    """The contact the request is about, among those the user may see."""

    def get_object(self, queryset=None):
        return get_object_or_404(Contact.objects.visible_to(self.request.user), pk=self.kwargs["contact_id"])


class ContactLgpdView(HtmxTemplateMixin, SubjectMixin, DetailView):
    """The contact's "LGPD" tab (registered in contacts.tabs): the report's
    links."""

    permission_required = "lgpd.report_personal_data"
    context_object_name = "object"
    template_name = "lgpd/contact_lgpd.html"
    partial_template_name = "lgpd/_contact_lgpd.html"


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
