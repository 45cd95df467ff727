import json
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.core.paginator import Paginator
from django.db import IntegrityError
from django.shortcuts import get_object_or_404
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DeleteView, DetailView, FormView, ListView, UpdateView
from django.views.generic.edit import CreateView
from django_filters.views import FilterView

from contacts_portal.htmx import HtmxTemplateMixin, is_htmx

from .filters import ContactFilter
from .forms import ContactForm, ContactGoneError, OptOutLiftForm, SegmentForm, StaleContactError
from . import segments
from .history import contact_timeline
from .models import Contact, OptOut, Segment, name_search_words
from .pagination import ContactPaginator, name_search_first_word, name_search_parts, with_row_details
from .services import OptOutLifted, contacts_delete, opt_out_lift


class VisibleContactsMixin(PermissionRequiredMixin):
    """Every contact view starts from what the user may see, so another
    wallet's contact is a 404, never a leak."""

    model = Contact

    def get_queryset(self):
        return Contact.objects.visible_to(self.request.user)


class ContactListView(HtmxTemplateMixin, VisibleContactsMixin, FilterView):
    permission_required = "contacts.view_contact"
    filterset_class = ContactFilter
    paginator_class = ContactPaginator
    template_name = "contacts/contact_list.html"
    partial_template_name = "contacts/_contact_results.html"

    def get(self, request, *args, **kwargs):
        sent = [(key, value) for key, values in request.GET.lists() for value in values]
        said = [(key, value) for key, value in sent if value.strip()]
        if not is_htmx(request) and len(said) < len(sent):
            # A form sent without JavaScript carries its empty fields: go to
            # the clean address, where only what was said is.
            return HttpResponseRedirect(request.path + ("?" + urlencode(said) if said else ""))
        response = super().get(request, *args, **kwargs)
        query = self.filterset.query_string
        if is_htmx(request) and query != request.GET.urlencode():
            # The address bar shows the filters as they apply: without the
            # empty, stale or forbidden values the request carried.
            response["HX-Push-Url"] = request.path + ("?" + query if query else "")
        return response

    def get_queryset(self):
        return super().get_queryset().select_related("wallet")

    def get_context_data(self, **kwargs):
        # The saved segments, as chips above the list.
        return super().get_context_data(segments=list(Segment.objects.visible_to(self.request.user)), **kwargs)

    def get_paginate_by(self, queryset):
        return self.filterset.page_size

    def get_paginator(self, queryset, per_page, **kwargs):
        unsearched = getattr(self.filterset, "unsearched_qs", None)
        parts = first_word = words = None
        if unsearched is not None:
            words = name_search_words(self.filterset.search_query)
        if unsearched is not None and self.filterset.sorted_by_name:
            parts = name_search_parts(unsearched, queryset, self.filterset.search_query)
            first_word = name_search_first_word(self.filterset.search_query)
        return self.paginator_class(
            queryset,
            per_page,
            unsearched=unsearched,
            parts=parts,
            first_word=first_word,
            words=words,
            count_in_order=not self.filterset.is_filtering,
            **kwargs,
        )

    def paginate_queryset(self, queryset, page_size):
        # An out-of-range or garbled ?page= shows the nearest page, not a 404.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        page.object_list = with_row_details(list(page.object_list), tags=self.filterset.tags)
        return paginator, page, page.object_list, page.has_other_pages()


class ContactFormMixin(HtmxTemplateMixin, VisibleContactsMixin):
    form_class = ContactForm
    partial_template_name = "contacts/_contact_form_modal.html"
    success_url = reverse_lazy("contacts:list")

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        try:
            self.object = form.save()
        except StaleContactError:
            form.add_error(
                None,
                _("Somebody else changed this contact while you were editing it. "
                  "Close this form and open it again to see their changes."),
            )
            return self.form_invalid(form)
        except (ContactGoneError, Contact.NotUpdated):
            discard_unsaved_photo(form)
            form.add_error(
                None,
                _("Somebody else deleted this contact while you were editing it; "
                  "your changes were not saved."),
            )
            return self.form_invalid(form)
        except IntegrityError:
            # Another request took the number (or id) after our validation.
            discard_unsaved_photo(form)
            if not form.add_duplicate_errors():
                form.add_error(None, _("The contact could not be saved; please try again."))
            return self.form_invalid(form)
        return self.saved(self.success_message % {"name": self.object.name})

    def saved(self, message: str) -> HttpResponse:
        """The answer to a save: close the popup and refresh the list. A page
        that shows the form elsewhere (a ticket's side panel) answers its own way."""
        return contact_changed(self.request, message)


class ContactCreateView(ContactFormMixin, CreateView):
    permission_required = "contacts.add_contact"
    success_message = gettext_lazy("Contact “%(name)s” added.")
    #: How many recent "Adicionar" forms a session remembers as sent.
    remembered_tokens = 20

    def get_initial(self):
        # "Adicionar contato" on a contact card in a conversation opens the
        # form with the card's name and number filled in.
        prefilled = {field: self.request.GET.get(field, "")[:200] for field in ("name", "number")}
        return {**super().get_initial(), **{field: value for field, value in prefilled.items() if value}}

    def post(self, request, *args, **kwargs):
        # The same form sent twice (a double click, a resent page): answer as
        # the first time, with the contact it created, not "already exists".
        created = request.session.get("created_contacts", {}).get(request.POST.get("form_token", ""))
        if created:
            contact = self.get_queryset().filter(pk=created).first()
            if contact is not None:
                self.object = contact
                return contact_changed(request, self.success_message % {"name": contact.name})
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        token = form.cleaned_data.get("form_token")
        if token and self.object and self.object.pk and response.status_code in (204, 302):
            tokens = self.request.session.get("created_contacts", {})
            tokens[token] = self.object.pk
            self.request.session["created_contacts"] = dict(list(tokens.items())[-self.remembered_tokens :])
        return response


class ContactUpdateView(ContactFormMixin, UpdateView):
    permission_required = "contacts.change_contact"
    success_message = gettext_lazy("Contact “%(name)s” saved.")


class ContactDeleteView(HtmxTemplateMixin, VisibleContactsMixin, DeleteView):
    permission_required = "contacts.delete_contact"
    partial_template_name = "contacts/_contact_delete_modal.html"
    success_url = reverse_lazy("contacts:list")

    def get_queryset(self):
        return super().get_queryset().select_related("wallet").prefetch_related("custom_fields", "tags")

    def form_valid(self, form):
        name = self.object.name
        contacts_delete(contacts=[self.object])
        return contact_changed(self.request, _("Contact “%(name)s” deleted.") % {"name": name})


class ContactHistoryView(HtmxTemplateMixin, VisibleContactsMixin, DetailView):
    """The contact's "Histórico": who changed what, through what, and when;
    newest first, a page at a time."""

    permission_required = "contacts.view_contact"
    template_name = "contacts/contact_history.html"
    partial_template_name = "contacts/_contact_history.html"
    paginate_by = 20

    def get_context_data(self, **kwargs):
        paginator = Paginator(contact_timeline(self.object.pk), self.paginate_by)
        page = paginator.get_page(self.request.GET.get("page"))
        return super().get_context_data(page_obj=page, entries=page.object_list, **kwargs)


class OptOutLiftView(PermissionRequiredMixin, FormView):
    """An administrator lifts a person's opt-out on a channel, with a note;
    back to the contact."""

    permission_required = ("contacts.change_contact", "contacts.lift_optout")
    form_class = OptOutLiftForm
    template_name = "contacts/opt_out_lift.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and self.has_permission():
            visible = OptOut.objects.active().filter(contact__in=Contact.objects.visible_to(request.user).values("pk"))
            self.opt_out = get_object_or_404(visible.select_related("contact"), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(opt_out=self.opt_out, object=self.opt_out.contact, **kwargs)

    def form_valid(self, form):
        try:
            opt_out_lift(opt_out=self.opt_out, user=self.request.user, note=form.cleaned_data["note"])
        except OptOutLifted:
            messages.info(self.request, _("This opt-out was lifted already."))
        else:
            messages.success(
                self.request,
                _("%(name)s may receive messages on %(channel)s again.") % {"name": self.opt_out.contact.name, "channel": self.opt_out.channel_name},
            )
        return HttpResponseRedirect(self.opt_out.contact.get_absolute_url())


class ContactPhotoView(VisibleContactsMixin, DetailView):
    """Photos are personal data: served only to those who may see the contact."""

    permission_required = "contacts.view_contact"

    def get(self, request, *args, **kwargs):
        contact = self.get_object()
        if not contact.photo:
            raise Http404
        try:
            response = FileResponse(contact.photo.open("rb"))
        except FileNotFoundError:
            raise Http404 from None
        response["Cache-Control"] = "private, max-age=3600"
        return response


class SegmentListView(PermissionRequiredMixin, ListView):
    """"Segmentos": the user's own and the team's, each with its filters
    (or why they no longer apply), to open, rename or delete."""

    permission_required = "contacts.view_contact"
    template_name = "contacts/segment_list.html"

    def get_queryset(self):
        return Segment.objects.visible_to(self.request.user).select_related("owner")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        changeable = set(Segment.objects.changeable_by(self.request.user).values_list("pk", flat=True))
        context["rows"] = [
            (segment, ContactFilter.for_user(self.request.user, {"segment": segment.pk}), segment.pk in changeable)
            for segment in context["object_list"]
        ]
        return context


class SegmentFormMixin(HtmxTemplateMixin, PermissionRequiredMixin):
    permission_required = "contacts.view_contact"
    model = Segment
    form_class = SegmentForm
    partial_template_name = "contacts/_segment_form_modal.html"
    template_name = "contacts/segment_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        self.object = form.save()
        messages.success(self.request, self.success_message % {"name": self.object.name})
        return redirect_out_of_modal(self.request, self.get_success_url())


class SegmentCreateView(SegmentFormMixin, CreateView):
    """"Salvar segmento": the list's search and filters (the address's
    parameters, as the list takes them) under a name; then the list shows it."""

    success_message = gettext_lazy("Segment “%(name)s” saved.")

    def get_filterset(self):
        if not hasattr(self, "filterset"):
            # A segment keeps filters, not the order, the page or one import's contacts.
            data = self.request.GET.copy()
            for key in [key for key in data if key not in (*segments.KEYS, "segment")]:
                del data[key]
            self.filterset = ContactFilter(data, queryset=Contact.objects.none(), request=self.request)
        return self.filterset

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "filterset": self.get_filterset()}

    def get_context_data(self, **kwargs):
        filterset = self.get_filterset()
        # The form is sent back with the filters, as the list applies them.
        action = reverse("contacts:segment_create") + (f"?{filterset.query_string}" if filterset.query_string else "")
        return super().get_context_data(filter=filterset, form_action=action, **kwargs)

    def get_success_url(self):
        return self.object.get_absolute_url()


class SegmentUpdateView(SegmentFormMixin, UpdateView):
    """Rename a segment (and share it or not, for who may share); its
    filters stay as saved."""

    success_message = gettext_lazy("Segment “%(name)s” saved.")
    success_url = reverse_lazy("contacts:segments")

    def get_queryset(self):
        return Segment.objects.changeable_by(self.request.user)

    def get_context_data(self, **kwargs):
        return super().get_context_data(form_action=reverse("contacts:segment_update", args=[self.object.pk]), **kwargs)


class SegmentDeleteView(HtmxTemplateMixin, PermissionRequiredMixin, DeleteView):
    permission_required = "contacts.view_contact"
    partial_template_name = "contacts/_segment_delete_modal.html"
    template_name = "contacts/segment_confirm_delete.html"
    success_url = reverse_lazy("contacts:segments")

    def get_queryset(self):
        return Segment.objects.changeable_by(self.request.user)

    def form_valid(self, form):
        name = self.object.name
        self.object.delete()
        messages.success(self.request, _("Segment “%(name)s” deleted.") % {"name": name})
        return redirect_out_of_modal(self.request, str(self.success_url))


def redirect_out_of_modal(request, url: str) -> HttpResponse:
    """After a popup's form: htmx loads `url` as a whole page (the list
    with the new segment, the segments after a rename); a plain form post
    is redirected there."""
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


def discard_unsaved_photo(form):
    # The file was written before the insert failed; nothing refers to it.
    if "photo" in form.changed_data and form.instance.photo:
        form.instance.photo.storage.delete(form.instance.photo.name)


def contact_changed(request, message: str) -> HttpResponse:
    """After a save or delete: htmx closes the popup and refreshes the list
    (through the `contacts-changed` event); a plain form post is redirected."""
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Trigger"] = json.dumps({"contacts-changed": {"message": message}})
        return response
    messages.success(request, message)
    return HttpResponseRedirect(reverse("contacts:list"))
