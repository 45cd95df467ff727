from django import forms
from django.utils.translation import gettext_lazy as _

from contacts import normalizers
from contacts.models import OptOut

from . import optout
from .models import Channel


class MessageTextField(forms.CharField):
    """A message as written: each line cleaned like the contacts' text
    (invisible marks and odd spaces, see normalizers.clean_text), its line
    breaks kept, where the contacts' one-line TextField makes them spaces."""

    def to_python(self, value):
        if isinstance(value, str):
            lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            value = "\n".join(normalizers.clean_text(line) for line in lines)
        return super().to_python(value)


class OptOutReasonField(forms.CharField):
    """Why an agent writes to a person who opted out on the channel."""

    def __init__(self, **kwargs):
        super().__init__(
            label=_("Why write to this person anyway?"),
            required=False,
            max_length=500,
            widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off"}),
            help_text=_("Kept in the ticket and the audit trail, for whoever asks later."),
            **kwargs,
        )


class ReplyForm(forms.Form):
    text = MessageTextField(
        label=_("Reply"),
        strip=True,
        # static/js/app.js: Enter sends, Shift+Enter breaks the line.
        widget=forms.Textarea(
            attrs={
                "rows": 2,
                "class": "form-control",
                "placeholder": _("Type a reply…"),
                "data-enter-sends": "",
                "aria-describedby": "reply-hint",
            }
        ),
        error_messages={"required": _("Type the reply before sending it.")},
    )
    reason = OptOutReasonField()

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        # The person's opt-out this ticket has given no reason for yet.
        self.opt_out = None if ticket.is_closed else optout.reason_needed(ticket=ticket)
        if self.opt_out is None:
            del self.fields["reason"]

    def clean_text(self):
        text = self.cleaned_data["text"]
        # What the provider accepts in one text message.
        limit = self.ticket.channel.provider.max_text_length
        if len(text) > limit:
            raise forms.ValidationError(
                _("A message on %(channel)s may have up to %(limit)s characters; this one has %(length)s."),
                code="too_long",
                params={"channel": self.ticket.channel.get_kind_display(), "limit": limit, "length": len(text)},
            )
        return text

    def clean(self):
        if self.ticket.is_closed:
            raise forms.ValidationError(_("This ticket is closed: reopen it to reply."), code="closed")
        if not self.ticket.channel.can_send:
            raise forms.ValidationError(
                _("The channel %(channel)s cannot send replies: its gateway is not configured."),
                code="no_gateway",
                params={"channel": self.ticket.channel.name},
            )
        if self.opt_out is not None and not self.cleaned_data.get("reason", "").strip():
            self.add_error("reason", optout.refusal(self.opt_out))
        return super().clean()


class StartTicketForm(forms.Form):
    """The channel to serve a contact on, among those that reach it."""

    channel = forms.ModelChoiceField(
        queryset=Channel.objects.none(),
        label=_("Channel"),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"invalid_choice": _("Choose one of the channels listed.")},
    )

    reason = OptOutReasonField()

    def __init__(self, *args, contact, **kwargs):
        super().__init__(*args, **kwargs)
        reaching = [channel.pk for channel in Channel.objects.all() if channel.reaches(contact)]
        self.fields["channel"].queryset = Channel.objects.filter(pk__in=reaching)
        #: The person's opt-outs on those channels, by channel id.
        self.opt_outs = {o.channel_id: o for o in OptOut.objects.active().filter(contact=contact, channel_id__in=reaching)}

    def clean(self):
        channel = self.cleaned_data.get("channel")
        opt_out = self.opt_outs.get(channel.pk) if channel else None
        if opt_out is not None and not self.cleaned_data.get("reason", "").strip():
            self.add_error("reason", optout.refusal(opt_out))
        return super().clean()


class SyncForm(forms.Form):
    kind = forms.ChoiceField(choices=[("contacts", _("Sync")), ("groups", _("Sync groups"))])
