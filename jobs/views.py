"""Every job's page, its live status and its files, for the user who
started it (Job.objects.visible_to)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.generic import DetailView, ListView, View
from django.views.generic.detail import SingleObjectMixin

from contacts_portal.htmx import HtmxTemplateMixin, is_htmx

from .models import Job
from .registry import kind_of
from .services import JobCannotRunAgain, job_run_again


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


def expired_message() -> str:
    days = settings.JOB_FILE_RETENTION_DAYS
    return ngettext(
        "This file was removed: files are kept %(days)s day after the job.",
        "This file was removed: files are kept %(days)s days after the job.",
        days,
    ) % {"days": days}


class JobListView(LoginRequiredMixin, HtmxTemplateMixin, ListView):
    """My imports and exports: each one's status, when, its counts and its
    files until they expire. An administrator may list everyone's."""

    template_name = "jobs/job_list.html"
    partial_template_name = "jobs/_job_results.html"
    paginate_by = 20

    @property
    def everyone(self) -> bool:
        return self.request.GET.get("everyone") == "1" and self.request.user.has_perm("jobs.view_job")

    def get_queryset(self):
        return Job.objects.listed_for(self.request.user, everyone=self.everyone)

    def paginate_queryset(self, queryset, page_size):
        # An out-of-range or garbled ?page= shows the nearest page, not a 404.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            everyone=self.everyone,
            may_see_everyone=self.request.user.has_perm("jobs.view_job"),
            retention_days=settings.JOB_FILE_RETENTION_DAYS,
            **kwargs,
        )


class JobRunAgainView(UserJobMixin, SingleObjectMixin, View):
    """"Run again": a failed job's work as a new job, whose page it leads
    to; or back to the failed job's page, which says why it cannot."""

    def post(self, request, *args, **kwargs):
        job = self.get_object()
        if not kind_of(job).rerun:
            raise Http404
        try:
            again = job_run_again(job=job, user=request.user, language=request.LANGUAGE_CODE)
        except JobCannotRunAgain as reason:
            messages.error(request, str(reason))
            return HttpResponseRedirect(job.get_absolute_url())
        return HttpResponseRedirect(again.get_absolute_url())


class JobFileView(UserJobMixin, View):
    """A job's file (an export, an error report)."""

    files = {"result": "result_file", "report": "report_file"}
    download_names = {"report": "erros-importacao.xlsx"}

    def get(self, request, token, which):
        job = get_object_or_404(self.get_queryset(), token=token)
        file = getattr(job, self.files.get(which, ""), None)
        if not file:
            raise Http404
        if job.files_expired:
            messages.error(request, expired_message())
            return HttpResponseRedirect(reverse("jobs:list"))
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
