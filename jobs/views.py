"""Every job's page, its live status and its files, for the user who
started it (Job.objects.visible_to)."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.generic import DetailView, View

from contacts_portal.htmx import HtmxTemplateMixin, is_htmx

from .models import Job
from .registry import kind_of


class UserJobMixin(LoginRequiredMixin):
    slug_field = slug_url_kwarg = "token"

    def get_queryset(self):
        return Job.objects.visible_to(self.request.user)


class JobView(UserJobMixin, HtmxTemplateMixin, DetailView):
    """A job's page: what it waits for (the import's column choices), then
    its live progress (the status fragment asks for itself again while the
    job runs), then what it did. The page is the kind's; the status is
    the same fragment for every kind."""

    model = Job
    partial_template_name = "jobs/_job_status.html"

    def get_template_names(self):
        if is_htmx(self.request):
            return [self.partial_template_name]
        return [kind_of(self.object).page_template]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        kind = kind_of(self.object)
        context["job_kind"] = kind
        if kind.context is not None:
            context |= kind.context(self.object, self.request, **kwargs)
        return context

    def post(self, request, *args, **kwargs):
        self.object = job = self.get_object()
        kind = kind_of(job)
        if kind.post is None:
            raise Http404
        return kind.post(self, request, job)


class JobFileView(UserJobMixin, View):
    """A job's file (an export, an error report)."""

    files = {"result": "result_file", "report": "report_file"}
    download_names = {"report": "erros-importacao.xlsx"}

    def get(self, request, token, which):
        job = get_object_or_404(self.get_queryset(), token=token)
        file = getattr(job, self.files.get(which, ""), None)
        if not file:
            raise Http404
        try:
            handle = file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        name = self.download_names.get(which) or file.name.rsplit("/", 1)[-1]
        return FileResponse(handle, as_attachment=True, filename=name)


class JobMovedView(View):
    """A job's address from before every job had one page: 307 keeps the
    method and the body, so a form posted to the old address still works."""

    pattern_name = "jobs:detail"

    def dispatch(self, request, *args, **kwargs):
        query = request.META.get("QUERY_STRING", "")
        response = HttpResponse(status=307)
        response["Location"] = reverse(self.pattern_name, kwargs=kwargs) + (f"?{query}" if query else "")
        return response
