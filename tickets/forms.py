from django import forms
from django.utils.translation import gettext_lazy as _

from contacts import normalizers
from contacts.models import OptOut

from . import media, optout
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
    """A reply: its text, or a file with an optional caption (the text)."""

    text = MessageTextField(
        label=_("Reply"),
        required=False,
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
    )
    # static/js/app.js shows it as "Anexar" with the file's name, and puts
    # a pasted image in it.
    file = forms.FileField(
        label=_("Attach a file"),
        required=False,
        allow_empty_file=True,  # attachment_of says what to do with one
        widget=forms.FileInput(attrs={"class": "form-control form-control-sm", "data-reply-file": ""}),
    )
    reason = OptOutReasonField()

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.ticket = ticket
        # The person's opt-out this ticket has given no reason for yet.
        self.opt_out = None if ticket.is_closed else optout.reason_needed(ticket=ticket)
        if self.opt_out is None:
            del self.fields["reason"]

    def clean_file(self):
        """The file, checked (tickets.media.attachment_of): None without one."""
        upload = self.cleaned_data.get("file")
        return media.attachment_of(upload) if upload else None

    def clean(self):
        super().clean()
        text, attachment = self.cleaned_data.get("text", ""), self.cleaned_data.get("file")
        if "text" in self.cleaned_data and "file" in self.cleaned_data and not text and attachment is None:
            self.add_error("text", forms.ValidationError(_("Type the reply before sending it."), code="required"))
        # What the provider accepts in one text message, or as a file's caption.
        provider = self.ticket.channel.provider
        if text and attachment is not None and attachment.kind in media.AUDIO_KINDS and not provider.captions_audio:
            self.add_error(
                "text",
                forms.ValidationError(
                    _("%(channel)s shows no caption under an audio: send the file alone, and the text as a reply of its own."),
                    code="audio_caption",
                    params={"channel": self.ticket.channel.get_kind_display()},
                ),
            )
        limit = provider.max_caption_length if attachment is not None else provider.max_text_length
        if len(text) > limit:
            message = (
                _("A caption on %(channel)s may have up to %(limit)s characters; this one has %(length)s.")
                if attachment is not None
                else _("A message on %(channel)s may have up to %(limit)s characters; this one has %(length)s.")
            )
            self.add_error(
                "text",
                forms.ValidationError(
                    message,
                    code="too_long",
                    params={"channel": self.ticket.channel.get_kind_display(), "limit": limit, "length": len(text)},
                ),
            )
        self.check_ticket()
        return self.cleaned_data

    def check_ticket(self):
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
        #: The person's opt-outs on those channels that starting there needs
        #: a reason for (optout.reason_needed_to_start), by channel id.
        opted_out = OptOut.objects.active().filter(contact=contact, channel_id__in=reaching).values_list("channel_id", flat=True)
        self.opt_outs = {
            channel_id: opt_out
            for channel_id in set(opted_out)
            if (opt_out := optout.reason_needed_to_start(contact=contact, channel=channel_id)) is not None
        }

    def clean(self):
        channel = self.cleaned_data.get("channel")
        opt_out = self.opt_outs.get(channel.pk) if channel else None
        if opt_out is not None and not self.cleaned_data.get("reason", "").strip():
            self.add_error("reason", optout.refusal(opt_out))
        return super().clean()


class SyncForm(forms.Form):
    kind = forms.ChoiceField(choices=[("contacts", _("Sync")), ("groups", _("Sync groups"))])
