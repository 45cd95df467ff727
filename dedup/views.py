"""Remover duplicados in the panel: a search for duplicate groups (a
background job), its preview with a choice of groups, the merge (another
job); and "merge with…" from a contact's page, for duplicates no rule can
see. Administrators only (contacts.merge_contacts)."""

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.generic import DetailView, TemplateView, View

from audit.recording import Source, recording
from contacts.ids import id_of, ids_of
from contacts.models import Contact, MergeRecord
from jobs.models import Job
from jobs.tasks import enqueue
from jobs.views import UserJobMixin

from .merging import contacts_merge, merge_preview
from .merging.undo import UnmergeRefused, merge_undo

GROUPS_PER_PAGE = 20


class MergePermissionMixin(PermissionRequiredMixin):
    permission_required = "contacts.merge_contacts"


class DuplicatesView(MergePermissionMixin, TemplateView):
    """The start: what the search does, the last searches and merges."""

    template_name = "dedup/duplicates.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            searches=Job.objects.visible_to(self.request.user).filter(kind__in=[Job.Kind.DUPLICATES, Job.Kind.MERGE])[:5],
            merges=MergeRecord.objects.select_related("survivor").prefetch_related("contacts")[:10],
            **kwargs,
        )

    def post(self, request):
        with transaction.atomic():
            job = Job.objects.create(kind=Job.Kind.DUPLICATES, user=request.user, parameters={"language": request.LANGUAGE_CODE})
            enqueue(job)
        return HttpResponseRedirect(job.get_absolute_url())


def group_page(job: Job, number, user) -> dict:
    """A page of a search's groups, each with its contacts as they are now
    and as `user` may see them now (None for one merged or deleted since,
    or out of the user's sight: a search outlives a change of role), and
    what is left to merge."""
    page = Paginator(job.duplicate_groups.all(), GROUPS_PER_PAGE).get_page(number)
    ids = {pk for group in page for pk in group.contact_ids}
    contacts = Contact.objects.visible_to(user).filter(pk__in=ids).select_related("wallet").in_bulk()
    for group in page:
        group.members = [(pk, contacts.get(pk)) for pk in group.contact_ids]
    return {"groups_page": page, "remaining": remaining_groups(job)}


def remaining_groups(job: Job) -> dict:
    """The counts of a search's groups not merged yet, as its page shows
    them once some were."""
    rows = job.duplicate_groups.filter(merged=False).values_list("contact_ids", "tickets", "messages")
    remaining = {"groups": 0, "contacts": 0, "tickets": 0, "messages": 0}
    for contact_ids, tickets, messages in rows.iterator(chunk_size=5000):
        remaining["groups"] += 1
        remaining["contacts"] += len(contact_ids) - 1
        remaining["tickets"] += tickets
        remaining["messages"] += messages
    return remaining


class DuplicatesMergeView(MergePermissionMixin, UserJobMixin, View):
    """The administrator confirms every group of a search, or those ticked."""

    def post(self, request, token):
        search = get_object_or_404(self.get_queryset(), token=token, kind=Job.Kind.DUPLICATES, status=Job.Status.DONE)
        chosen = None
        if "all" not in request.POST:
            wanted = set(ids_of(request.POST.getlist("group")))
            chosen = list(search.duplicate_groups.filter(pk__in=wanted, merged=False).values_list("pk", flat=True))
            if not chosen:
                messages.error(request, _("Choose at least one group to merge, or merge them all."))
                return HttpResponseRedirect(search.get_absolute_url())
        with transaction.atomic():
            job = Job.objects.create(
                kind=Job.Kind.MERGE,
                user=request.user,
                parameters={"search": search.pk, "search_token": str(search.token), "groups": chosen, "from_panel": True, "language": request.LANGUAGE_CODE},
            )
            enqueue(job)
        return HttpResponseRedirect(job.get_absolute_url())


class ContactMergeView(MergePermissionMixin, DetailView):
    """"Merge with…": find the other contact, see what the merge does (the
    older one is kept), confirm."""

    model = Contact
    template_name = "dedup/contact_merge.html"
    context_object_name = "contact"

    def other(self):
        pk = id_of(self.request.POST.get("other") or self.request.GET.get("other") or "")
        if pk is None:
            return None
        return (
            Contact.objects.filter(pk=pk, is_group=self.object.is_group).exclude(pk=self.object.pk).select_related("wallet").first()
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("q", "")
        other = self.other()
        context["q"] = query
        if other is not None:
            context["other"] = other
            context["preview"] = merge_preview(contacts=[self.object, other])
        elif query.strip():
            context["candidates"] = (
                Contact.objects.search(query).filter(is_group=self.object.is_group).exclude(pk=self.object.pk).select_related("wallet")[:20]
            )
        return context

    def post(self, request, pk):
        self.object = self.get_object()
        other = self.other()
        if other is None:
            raise Http404
        with recording(source=Source.MERGE, user=request.user):
            result = contacts_merge(groups=[[self.object.pk, other.pk]], rules=[["manual"]], audit={"from": "panel", "manual": True})
        survivor = Contact.objects.get(pk=result.survivors[0]) if result.survivors else self.object
        messages.success(request, _("The contacts were merged into “%(name)s”.") % {"name": survivor.name})
        return HttpResponseRedirect(survivor.get_absolute_url())



class MergeUndoView(MergePermissionMixin, View):
    """"Desfazer mesclagem" from the survivor's history: back to it, saying
    what happened or why nothing did."""

    http_method_names = ["post"]

    def post(self, request, pk):
        visible = MergeRecord.objects.filter(survivor__in=Contact.objects.visible_to(request.user).values("pk"))
        record = get_object_or_404(visible.select_related("survivor"), pk=pk)
        survivor = record.survivor
        try:
            with recording(source=Source.MERGE, user=request.user):
                result = merge_undo(record=record)
        except UnmergeRefused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(
                request,
                _("Merge undone: %(contacts)s contacts back, with %(tickets)s tickets and %(messages)s messages.")
                % {"contacts": result.contacts, "tickets": result.tickets, "messages": result.messages},
            )
        return HttpResponseRedirect(reverse("contacts:history", args=[survivor.pk]))
