from django import forms
from django.utils.translation import gettext_lazy as _

from contacts import normalizers

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

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        self.ticket = ticket

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

    def __init__(self, *args, contact, **kwargs):
        super().__init__(*args, **kwargs)
        reaching = [channel.pk for channel in Channel.objects.all() if channel.reaches(contact)]
        self.fields["channel"].queryset = Channel.objects.filter(pk__in=reaching)


class SyncForm(forms.Form):
    kind = forms.ChoiceField(choices=[("contacts", _("Sync")), ("groups", _("Sync groups"))])
