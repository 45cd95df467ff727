import hashlib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import ValidationError
from django.db.models import Count, Max
from django.db.models.functions import Left
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import DetailView, FormView, ListView, View
from django_filters.views import FilterView

from contacts.forms import ContactForm
from contacts.models import Contact
from contacts.views import ContactUpdateView
from contacts_portal.htmx import HtmxTemplateMixin, is_htmx
from contacts_portal.ranges import ranged_file_response
from jobs.models import Job
from jobs.registry import kind_of

from .filters import TicketFilter
from .forms import ReplyForm, StartTicketForm, SyncForm
from .media import media_retry
from .models import Message, MessageMedia, OptOutReason, Ticket
from .optout import active_opt_out
from .jobs import job_start, popup_context
from .services import reply_create, reply_retry, reply_send, ticket_start

#: How many of a ticket's latest messages its page shows.
CONVERSATION_LENGTH = 100


def redirect_to(request, url: str) -> HttpResponse:
    """Go to `url`: htmx is told to load it as a page (HX-Redirect), a plain
    form post is redirected."""
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return HttpResponseRedirect(url)


class VisibleTicketsMixin(PermissionRequiredMixin):
    """Every ticket view starts from the tickets of the contacts the user
    may see: another wallet's ticket is a 404."""

    model = Ticket

    def get_queryset(self):
        return Ticket.objects.visible_to(self.request.user).select_related("contact", "channel", "user")


class TicketListView(HtmxTemplateMixin, VisibleTicketsMixin, FilterView):
    """The tickets, newest conversation first, each with the start of its
    last message and what the viewer has not read yet. An open list asks
    every few seconds whether its page changed (the X-List-Version header
    carries what it shows): 204 when nothing did."""

    permission_required = "tickets.view_ticket"
    filterset_class = TicketFilter
    template_name = "tickets/ticket_list.html"
    partial_template_name = "tickets/_ticket_results.html"
    paginate_by = 25

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        patch_vary_headers(response, ["X-List-Version"])
        if is_htmx(request) and request.headers.get("X-List-Version") == response.context_data["version"]:
            return HttpResponse(status=204)  # nothing new: htmx keeps what it shows
        return response

    def get_queryset(self):
        # Worked out for the page's rows only: subqueries, cut by the page.
        tickets = super().get_queryset().with_last_message().with_unread(self.request.user)
        return tickets.order_by("-last_message_at", "-id")

    def get_context_data(self, **kwargs):
        tabs = [
            {"value": value, "label": label, "query": self.filterset.query_for(value)}
            for value, label in self.filterset.filters["view"].extra["choices"]
        ]
        context = super().get_context_data(view_tabs=tabs, **kwargs)
        page = context["page_obj"]
        page.object_list = with_last_messages(list(page.object_list))
        context.update(version=list_version(page), today=timezone.localdate(), poll_seconds=LIST_POLL_SECONDS)
        return context

    def paginate_queryset(self, queryset, page_size):
        # An out-of-range or garbled ?page= shows the nearest page, not a 404.
        paginator = self.get_paginator(queryset, page_size)
        page = paginator.get_page(self.request.GET.get(self.page_kwarg))
        return paginator, page, page.object_list, page.has_other_pages()


#: How often an open ticket list asks whether it changed.
LIST_POLL_SECONDS = 4
#: How much of a ticket's last message its row shows.
PREVIEW_LENGTH = 120


def with_last_messages(tickets: list[Ticket]) -> list[Ticket]:
    """Give each ticket of a page its `last_message` (with the start of its
    text as `preview`), in one query."""
    ids = [ticket.last_message_pk for ticket in tickets if ticket.last_message_pk]
    found = Message.objects.defer("body").annotate(preview=Left("body", PREVIEW_LENGTH)).in_bulk(ids)
    for ticket in tickets:
        ticket.last_message = found.get(ticket.last_message_pk)
    return tickets


def list_version(page) -> str:
    """Changes whenever what a page of the list shows changes: a ticket
    comes or goes, a message arrives, is edited, sent or fails, a status,
    agent, contact or unread count changes."""
    rows = [
        (
            ticket.pk,
            ticket.status,
            ticket.user_id,
            ticket.contact.updated_at.timestamp(),
            ticket.unread,
            ticket.last_message.pk if ticket.last_message else None,
            ticket.last_message.updated_at.timestamp() if ticket.last_message else None,
        )
        for ticket in page.object_list
    ]
    state = repr((page.paginator.count, page.number, rows)).encode()
    return hashlib.sha256(state).hexdigest()[:32]


def conversation_version(ticket: Ticket) -> str:
    """Changes whenever what the conversation shows changes: a message
    arrives, is edited, is sent or fails, or the ticket changes status."""
    latest = ticket.messages.aggregate(count=Count("pk"), updated=Max("updated_at"))
    updated = latest["updated"].timestamp() if latest["updated"] else 0
    return f"{latest['count']}-{updated:.6f}-{ticket.status}-{ticket.updated_at.timestamp():.6f}"


def opt_out_context(ticket: Ticket) -> dict:
    """What the ticket shows of the person's wish not to receive messages
    on its channel: the opt-out, and the reasons given to write anyway."""
    opt_out = active_opt_out(contact=ticket.contact_id, channel=ticket.channel_id)
    reasons = list(OptOutReason.objects.filter(opt_out=opt_out, ticket=ticket)) if opt_out else []
    return {"opt_out": opt_out, "opt_out_reasons": reasons}


class ConversationMixin:
    """The conversation of a ticket, newest at the bottom, and its reply box."""

    def conversation_context(self, ticket: Ticket, form=None) -> dict:
        latest = list(
            ticket.messages.select_related("sent_by", "media")
            .prefetch_related("edits")
            .order_by("-sent_at", "-id")[: CONVERSATION_LENGTH + 1]
        )
        return {
            "ticket": ticket,
            "conversation": latest[:CONVERSATION_LENGTH][::-1],
            "earlier_messages": len(latest) > CONVERSATION_LENGTH,
            "conversation_length": CONVERSATION_LENGTH,
            "version": conversation_version(ticket),
            "form": form if form is not None else ReplyForm(ticket=ticket),
            "can_reply": self.request.user.has_perm("tickets.add_message"),
            **opt_out_context(ticket),
        }

    def render_conversation(self, ticket: Ticket, form=None) -> HttpResponse:
        """The ticket's body after a reply or a retry (htmx)."""
        context = self.conversation_context(ticket, form)
        self.mark_shown(context)
        return render(self.request, "tickets/_ticket_body.html", context)

    def mark_shown(self, context: dict) -> None:
        """The messages the conversation shows the user are read by them."""
        if shown := context["conversation"]:
            context["ticket"].mark_read(self.request.user, message_id=max(message.pk for message in shown))


class TicketDetailView(HtmxTemplateMixin, ConversationMixin, VisibleTicketsMixin, DetailView):
    """A ticket: its contact, channel and status, the conversation (kept up
    to date by polling), and the reply box."""

    permission_required = "tickets.view_ticket"
    template_name = "tickets/ticket_detail.html"
    partial_template_name = "tickets/_conversation.html"

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        if is_htmx(request) and request.GET.get("version") == conversation_version(self.object):
            return HttpResponse(status=204)  # nothing new: htmx keeps what it shows
        context = self.get_context_data(object=self.object)
        self.mark_shown(context)
        return self.render_to_response(context)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.conversation_context(self.object))
        context.update(contact_panel_context(self.request, self.object))
        return context


def contact_panel_context(request, ticket: Ticket, form: ContactForm | None = None) -> dict:
    """The side panel's contact: the contacts' form for those who may change
    it (prefixed: it shares the page with the reply box), its values for
    the others; and the contact's other tickets."""
    contact = ticket.contact
    context = {
        "ticket": ticket,
        "other_tickets": Ticket.objects.filter(contact=contact).exclude(pk=ticket.pk).select_related("channel")[:10],
    }
    if request.user.has_perm("contacts.change_contact"):
        context["contact_form"] = form or ContactForm(instance=contact, user=request.user, prefix=CONTACT_PREFIX)
    else:
        context["contact_tags"] = contact.tags.all()
        context["contact_fields"] = contact.custom_fields.all()
    return context


CONTACT_PREFIX = "contact"


class TicketContactView(ContactUpdateView):
    """The contact beside a ticket's conversation, changed in place: the
    contacts' own form, rules and save (ContactUpdateView), answered into
    the side panel instead of the popup; a page of its own without
    JavaScript."""

    permission_required = ("contacts.change_contact", "tickets.view_ticket")
    template_name = "tickets/ticket_contact.html"
    partial_template_name = "tickets/_contact_panel.html"
    prefix = CONTACT_PREFIX

    def get_object(self, queryset=None):
        visible = Ticket.objects.visible_to(self.request.user).select_related("contact", "channel")
        self.ticket = get_object_or_404(visible, pk=self.kwargs["pk"])
        return get_object_or_404(self.get_queryset(), pk=self.ticket.contact_id)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        self.ticket.contact = self.object
        return {**context, **contact_panel_context(self.request, self.ticket, form=context["form"])}

    def saved(self, message: str) -> HttpResponse:
        if not is_htmx(self.request):
            messages.success(self.request, message)
            return HttpResponseRedirect(self.ticket.get_absolute_url())
        # The panel again, with what was saved (and its new version).
        self.object = self.get_queryset().get(pk=self.object.pk)
        form = self.get_form_class()(instance=self.object, user=self.request.user, prefix=self.prefix)
        return self.render_to_response(self.get_context_data(form=form, saved_message=message))


def reply_upload_limit() -> int:
    """What a reply may send in all: the largest file kept (a document,
    MESSAGE_MEDIA_MAX_DOCUMENT_BYTES) and the form's other fields."""
    return settings.MESSAGE_MEDIA_MAX_DOCUMENT_BYTES + 32 * 1024


class TicketReplyView(ConversationMixin, VisibleTicketsMixin, View):
    """Send a reply (a text, or a file with a caption) through the ticket's
    channel. It is stored first, so a send that fails is kept, says why,
    and can be sent again."""

    permission_required = "tickets.add_message"

    def post(self, request, pk):
        ticket = get_object_or_404(self.get_queryset(), pk=pk)
        form = ReplyForm(request.POST, request.FILES, ticket=ticket)
        if form.is_valid():
            try:
                message = reply_create(
                    ticket=ticket,
                    text=form.cleaned_data["text"],
                    user=request.user,
                    reason=form.cleaned_data.get("reason", ""),
                    attachment=form.cleaned_data["file"],
                )
            except ValidationError as error:  # the person opted out meanwhile
                form.add_error(None, error)
        if form.is_valid():
            sent = reply_send(message=message)
            form = None
            if not is_htmx(request):
                if not sent:
                    messages.error(request, _("The reply was not sent: %(error)s") % {"error": message.error})
                return HttpResponseRedirect(ticket.get_absolute_url())
        elif not is_htmx(request):
            for error in form.errors.get("text", []) + form.errors.get("file", []) + form.errors.get("reason", []) + form.non_field_errors():
                messages.error(request, error)
            return HttpResponseRedirect(ticket.get_absolute_url())
        ticket.refresh_from_db()
        return self.render_conversation(ticket, form)


class MessageRetryView(ConversationMixin, PermissionRequiredMixin, View):
    """Send again a reply that was not sent."""

    permission_required = "tickets.add_message"

    def post(self, request, pk):
        visible = Ticket.objects.visible_to(request.user)
        message = get_object_or_404(Message.objects.select_related("channel", "ticket"), pk=pk, ticket__in=visible)
        if not message.can_retry:
            return HttpResponseRedirect(message.ticket.get_absolute_url())
        sent = reply_retry(message=message)
        ticket = message.ticket
        if not is_htmx(request):
            if not sent:
                messages.error(request, _("The reply was not sent: %(error)s") % {"error": message.error})
            return HttpResponseRedirect(ticket.get_absolute_url())
        ticket.refresh_from_db()
        return self.render_conversation(ticket)


#: Types served as plain bytes even as a download: a browser that ignored
#: the attachment would otherwise run them in our origin.
ACTIVE_TYPES = frozenset({"text/html", "image/svg+xml", "application/xml", "text/xml"})


class MessageMediaView(PermissionRequiredMixin, View):
    """A file a customer sent, served only to those who may see its ticket
    (the contact's wallet rules): never a storage URL. Photos, stickers,
    audio and video of a type browsers show safely are served inline for
    the conversation's players; documents and anything else download
    (Content-Disposition: attachment), so an HTML or SVG file never runs
    in our origin; and no file is sniffed into another type."""

    permission_required = "tickets.view_ticket"
    #: The photo's small copy (MessageMedia.thumbnail) instead of the file.
    thumbnail = False

    def get(self, request, pk):
        visible = MessageMedia.objects.visible_to(request.user).filter(status=MessageMedia.Status.STORED)
        media = get_object_or_404(visible.exclude(**{"thumbnail" if self.thumbnail else "file": ""}), pk=pk)
        stored = media.thumbnail if self.thumbnail else media.file
        try:
            file = stored.open("rb")
            size = stored.size
        except FileNotFoundError:
            raise Http404 from None
        inline = self.thumbnail or media.shown_as != "download"
        content_type = "image/jpeg" if self.thumbnail else media.content_type
        content_type = "application/octet-stream" if content_type in ACTIVE_TYPES else content_type
        # In parts: the players ask for the end of a file to learn its length.
        response = ranged_file_response(
            request, file, size=size, content_type=content_type, as_attachment=not inline, filename=media.download_name
        )
        response["X-Content-Type-Options"] = "nosniff"
        # Opened on its own (a photo in a new tab), the file gets a policy
        # of its own: nothing runs, nothing else loads. (The browser's own
        # viewer for an image or a player styles itself inline.)
        response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox"
        response["Cache-Control"] = "private, max-age=3600"
        return response


class MessageMediaRetryView(ConversationMixin, PermissionRequiredMixin, View):
    """"Tentar novamente": fetch again a file that could not be downloaded."""

    permission_required = "tickets.view_ticket"

    def post(self, request, pk):
        media = get_object_or_404(MessageMedia.objects.visible_to(request.user).select_related("message__ticket"), pk=pk)
        ticket = media.message.ticket
        if not media_retry(media=media) and not is_htmx(request):
            messages.info(request, _("This file is not waiting to be downloaded again."))
        if not is_htmx(request):
            return HttpResponseRedirect(ticket.get_absolute_url() + f"#message-{media.message_id}")
        ticket.refresh_from_db()
        return self.render_conversation(ticket)


class TicketActionView(VisibleTicketsMixin, View):
    """Close, reopen or take a ticket: a POST, then back to its page."""

    permission_required = "tickets.change_ticket"

    def post(self, request, pk):
        ticket = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            self.act(ticket)
        except ValidationError as error:
            messages.error(request, self.refusal(ticket, error))
        else:
            messages.success(request, self.done_message % {"ticket": ticket.pk})
        return HttpResponseRedirect(ticket.get_absolute_url())


    def refusal(self, ticket, error: ValidationError) -> str:
        return " ".join(error.messages)


class TicketCloseView(TicketActionView):
    done_message = gettext_lazy("Ticket #%(ticket)s closed.")

    def act(self, ticket):
        ticket.close()


class TicketReopenView(TicketActionView):
    done_message = gettext_lazy("Ticket #%(ticket)s reopened.")

    def act(self, ticket):
        ticket.reopen(user=self.request.user)

    def refusal(self, ticket, error: ValidationError) -> str:
        if error.code != "active_ticket_exists":
            return super().refusal(ticket, error)
        # The contact's ticket that is open on the channel: where to go instead.
        active = self.get_queryset().active().filter(contact=ticket.contact_id, channel=ticket.channel_id).first()
        if active is None:  # closed again meanwhile
            return super().refusal(ticket, error)
        return format_html(
            _("This contact already has an open ticket on this channel: {link}."),
            link=format_html('<a href="{}">{}</a>', active.get_absolute_url(), _("ticket #%(number)s") % {"number": active.pk}),
        )


class TicketTakeView(TicketActionView):
    done_message = gettext_lazy("Ticket #%(ticket)s is yours now.")

    def act(self, ticket):
        ticket.take(self.request.user)


class ContactTicketsView(HtmxTemplateMixin, PermissionRequiredMixin, ListView):
    """A contact's "Conversas" tab (registered in contacts.tabs): its
    tickets, newest conversation first, each with its status, channel and
    last message time."""

    permission_required = "tickets.view_ticket"
    template_name = "tickets/contact_tickets.html"
    partial_template_name = "tickets/_contact_tickets.html"
    #: How many of a contact's tickets the tab lists.
    shown = 50

    def get_queryset(self):
        self.contact = get_object_or_404(Contact.objects.visible_to(self.request.user), pk=self.kwargs["contact_id"])
        tickets = Ticket.objects.visible_to(self.request.user).filter(contact=self.contact)
        return tickets.select_related("channel", "user").order_by("-last_message_at", "-id")[: self.shown + 1]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tickets = list(context["object_list"])
        return {**context, "object": self.contact, "tickets": tickets[: self.shown], "more": len(tickets) > self.shown}


class TicketStartView(HtmxTemplateMixin, PermissionRequiredMixin, FormView):
    """"Iniciar atendimento" on a contact: its open ticket on the chosen
    channel, or a new one for the current user. With a single channel that
    reaches the contact there is nothing to choose."""

    permission_required = "tickets.add_ticket"
    form_class = StartTicketForm
    template_name = "tickets/ticket_start.html"
    partial_template_name = "tickets/_ticket_start_modal.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and self.has_permission():
            self.contact = get_object_or_404(Contact.objects.visible_to(request.user), pk=kwargs["contact_id"])
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "contact": self.contact}

    def post(self, request, *args, **kwargs):
        form = self.get_form()
        channels = list(form.fields["channel"].queryset)
        if "channel" not in request.POST and len(channels) == 1 and channels[0].pk not in form.opt_outs:
            return self.start(channels[0])
        if "channel" not in request.POST:
            return self.render_to_response(self.get_context_data(form=StartTicketForm(contact=self.contact)))
        return self.form_valid(form) if form.is_valid() else self.form_invalid(form)

    def form_valid(self, form):
        try:
            return self.start(form.cleaned_data["channel"], reason=form.cleaned_data.get("reason", ""))
        except ValidationError as error:  # the person opted out meanwhile
            form.add_error("reason", error)
            return self.form_invalid(form)

    def start(self, channel, reason: str = ""):
        ticket, created = ticket_start(contact=self.contact, channel=channel, user=self.request.user, reason=reason)
        if not created:
            messages.info(self.request, _("%(contact)s already had an open ticket on %(channel)s: here it is.") % {
                "contact": self.contact.name,
                "channel": channel.name,
            })
        return redirect_to(self.request, ticket.get_absolute_url())

    def get_context_data(self, **kwargs):
        return super().get_context_data(contact=self.contact, **kwargs)


class SyncStartView(PermissionRequiredMixin, FormView):
    """"Sincronizar" / "Sincronizar grupos": start the background job and
    show its progress (in the popup with htmx, as a page without)."""

    permission_required = "tickets.sync_contacts"
    form_class = SyncForm
    http_method_names = ["post"]

    def form_valid(self, form):
        job = job_start(kind=form.cleaned_data["kind"], user=self.request.user, language=self.request.LANGUAGE_CODE)
        if is_htmx(self.request):
            job.refresh_from_db()  # a backend that runs tasks at once has finished it
            context = {"object": job, "job_kind": kind_of(job), **popup_context(job, self.request)}
            return render(self.request, "tickets/_sync_job.html", context)
        return HttpResponseRedirect(job.get_absolute_url())

    def form_invalid(self, form):
        messages.error(self.request, _("Choose what to sync."))
        return HttpResponseRedirect(reverse("contacts:list"))


class SyncJobMovedView(LoginRequiredMixin, View):
    """A sync's page by the number it had before syncs were jobs like the others."""

    def get(self, request, pk):
        job = get_object_or_404(Job.objects.visible_to(request.user), parameters__sync_job=pk)
        response = HttpResponse(status=307)
        response["Location"] = job.get_absolute_url()
        return response
