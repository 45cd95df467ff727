from django import forms
from django.contrib import admin, messages
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from contacts_portal.admin import ReadOnlyAdmin

from .gateways import GatewayError
from .models import Channel, Message, MessageEdit, MessageMedia, Ticket, new_webhook_secret

SECRET_FIELDS = ("webhook_secret", "api_key", "bot_token")


def masked(secret: str) -> str:
    return f"…{secret[-4:]}" if secret else "—"


class ChannelAdminForm(forms.ModelForm):
    """Secrets are typed, never shown again: a saved one is named by its
    last characters, and leaving its box blank keeps it."""

    class Meta:
        model = Channel
        fields = [
            "kind", "name", "address", "webhook_secret", "gateway_url", "instance", "api_key", "bot_token", "group_tickets"
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in SECRET_FIELDS:
            if name not in self.fields:
                continue  # read-only: ChannelAdmin shows it masked
            field = self.fields[name]
            field.widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            field.required = False
            # A callable default (the random webhook secret) would otherwise
            # be echoed in a hidden "initial" input.
            field.show_hidden_initial = False
            saved = getattr(self.instance, name) if self.instance.pk else ""
            if saved:
                field.help_text = format_lazy(
                    "{} {}",
                    _("Saved (ends in “…%(end)s”); leave blank to keep it.") % {"end": saved[-4:]},
                    field.help_text,
                )
            elif name == "webhook_secret":
                field.help_text = format_lazy(
                    "{} {}", _("Leave blank for a random one (use “Register the webhook” to give it to the gateway)."), field.help_text
                )

    def _kept(self, name: str) -> str:
        """What was typed, else what was saved (a new channel gets a random
        webhook secret)."""
        if value := self.cleaned_data.get(name):
            return value
        saved = getattr(self.instance, name) if self.instance.pk else ""
        return saved or (new_webhook_secret() if name == "webhook_secret" else "")

    def clean_webhook_secret(self):
        return self._kept("webhook_secret")

    def clean_api_key(self):
        return self._kept("api_key")

    def clean_bot_token(self):
        return self._kept("bot_token")


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    form = ChannelAdminForm
    list_display = ["name", "kind", "address", "gateway"]
    list_filter = ["kind"]
    search_fields = ["name", "address", "instance"]
    actions = ["register_webhook"]
    change_form_template = "admin/tickets/channel/change_form.html"
    fieldsets = [
        (None, {"fields": ["kind", "name", "address", "webhook_secret"]}),
        (_("Gateway"), {"fields": ["gateway_url", "instance", "api_key", "bot_token"]}),
        (_("Conversations"), {"fields": ["group_tickets"]}),
    ]

    def get_list_display(self, request):
        def webhook_url(channel):
            return request.build_absolute_uri(channel.get_webhook_path())

        webhook_url.short_description = _("webhook URL")
        return [*self.list_display, webhook_url]

    @admin.display(description=_("replies"), boolean=True)
    def gateway(self, channel):
        return channel.can_send

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or self.has_change_permission(request, obj):
            return fieldsets
        # Read-only (someone who may only view channels): the secrets by
        # their last characters, never in full.
        return [
            (name, {**options, "fields": [f"masked_{f}" if f in SECRET_FIELDS else f for f in options["fields"]]})
            for name, options in fieldsets
        ]

    @admin.display(description=_("webhook secret"))
    def masked_webhook_secret(self, channel):
        return masked(channel.webhook_secret)

    @admin.display(description=_("API key"))
    def masked_api_key(self, channel):
        return masked(channel.api_key)

    @admin.display(description=_("bot token"))
    def masked_bot_token(self, channel):
        return masked(channel.bot_token)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["webhook_url"] = request.build_absolute_uri(obj.get_webhook_path())
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.action(description=_("Register the webhook with the gateway"), permissions=["change"])
    def register_webhook(self, request, queryset):
        """Tell each gateway where to send its events, with the channel's
        secret: Evolution API's /webhook/set, Telegram's setWebhook."""
        for channel in queryset:
            url = request.build_absolute_uri(channel.get_webhook_path())
            try:
                channel.provider.register_webhook(url)
            except GatewayError as error:
                self.message_user(request, f"{channel}: {error}", messages.ERROR)
            else:
                self.message_user(
                    request, _("%(channel)s: the gateway now sends its messages to %(url)s.") % {"channel": channel, "url": url}
                )


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = ["id", "contact", "channel", "status", "user", "updated_at"]
    list_filter = ["status", "channel", ("user", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["contact", "channel", "user"]
    search_fields = ["contact__name", "=id"]
    date_hierarchy = "created_at"
    show_full_result_count = False


class MessageEditInline(admin.TabularInline):
    """The texts edits replaced, as the conversation shows them."""

    model = MessageEdit
    fields = ["replaced_at", "kind", "body"]
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MessageMediaInline(admin.StackedInline):
    """The file the message carries, as fetched (or why not)."""

    model = MessageMedia
    fields = ["kind", "status", "file_name", "content_type", "size", "duration", "attempts", "error", "updated_at"]
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    inlines = [MessageMediaInline, MessageEditInline]
    list_display = ["sent_at", "channel", "sender_name", "chat_id", "from_me", "kind", "short_body", "ticket"]
    list_filter = ["channel", "from_me", "is_group", "kind", "delivery"]
    list_select_related = ["channel", "ticket"]
    search_fields = ["=chat_id", "=chat_identity", "=external_id", "sender_name"]
    date_hierarchy = "sent_at"
    show_full_result_count = False
    raw_id_fields = ["ticket", "contact"]

    @admin.display(description=_("text"))
    def short_body(self, message):
        return message.body[:80]
