from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contacts_portal.admin import ReadOnlyAdmin

from .forms import ContactAdminForm, CustomFieldForm
from .ids import ids_of
from .models import Contact, CustomField, MergedContact, MergeRecord, Segment, Tag, Wallet
from .services import contacts_delete, contacts_reassign_wallet, contacts_refresh_search, tags_delete


class WalletMoveForm(forms.Form):
    target = forms.ModelChoiceField(queryset=Wallet.objects.none(), label=_("Move its contacts to"))

    def __init__(self, *args, wallet, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = Wallet.objects.exclude(pk=wallet.pk).select_related("user")


class IdAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete looks up the value it shows as it came: a form
    shown again with something that is not an id (a user typed into the
    address, ?user=x, or posted) failed there instead of showing no choice."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [str(pk) for pk in ids_of(value)], attr)


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "contact_count"]
    list_filter = ["user"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
    delete_confirmation_template = "admin/contacts/wallet/delete_confirmation.html"
    delete_confirmation_max_display = 20

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault("widget", IdAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using")))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(contact_count=Count("contacts"))

    @admin.display(description=_("contacts"), ordering="contact_count")
    def contact_count(self, wallet):
        return wallet.contact_count

    def get_urls(self):
        move = self.admin_site.admin_view(self.move_contacts_view)
        return [path("<int:pk>/move-contacts/", move, name="contacts_wallet_move"), *super().get_urls()]

    def move_contacts_view(self, request, pk):
        """A wallet's contacts go to another wallet, never silently to "no
        wallet": the step before deleting a wallet that has contacts."""
        wallet = get_object_or_404(Wallet, pk=pk)
        if not self.has_change_permission(request, wallet) or not request.user.has_perm("contacts.change_contact"):
            raise PermissionDenied
        form = WalletMoveForm(request.POST or None, wallet=wallet)
        if request.method == "POST" and form.is_valid():
            moved = contacts_reassign_wallet(source=wallet, target=form.cleaned_data["target"])
            self.message_user(
                request,
                ngettext(
                    "%(count)d contact moved to %(wallet)s.",
                    "%(count)d contacts moved to %(wallet)s.",
                    moved,
                )
                % {"count": moved, "wallet": form.cleaned_data["target"]},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:contacts_wallet_delete", args=[wallet.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Move the contacts of %(wallet)s") % {"wallet": wallet},
            "wallet": wallet,
            "contact_count": wallet.contacts.count(),
            "form": form,
        }
        return TemplateResponse(request, "admin/contacts/wallet/move_contacts.html", context)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "color"]
    search_fields = ["name"]

    def delete_model(self, request, obj):
        tags_delete(tags=[obj])

    def delete_queryset(self, request, queryset):
        tags_delete(tags=queryset)


class CustomFieldInline(admin.TabularInline):
    model = CustomField
    form = CustomFieldForm
    extra = 1


class KindFilter(admin.SimpleListFilter):
    """People or groups. (A boolean field's own filter would be titled "Por
    é um grupo" in pt-BR.)"""

    title = _("type")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [("people", _("People")), ("groups", _("Groups"))]

    def queryset(self, request, queryset):
        if self.value() in ("people", "groups"):
            return queryset.filter(is_group=self.value() == "groups")
        return queryset


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactAdminForm
    list_display = ["name", "whatsapp", "wallet", "telegram_id", "email", "is_group", "created_at"]
    list_filter = [KindFilter, "wallet", "tags"]
    list_select_related = ["wallet"]
    search_fields = ["name"]  # replaced by Contact.objects.search(), see below
    search_help_text = _("Name, phone, e-mail, company or CPF/CNPJ.")
    filter_horizontal = ["tags"]
    readonly_fields = ["created_at", "updated_at", "history_link"]
    inlines = [CustomFieldInline]
    show_full_result_count = False
    fieldsets = [
        # is_group comes before number: it decides how the number is checked.
        (None, {"fields": ["name", "is_group", "number", "email", "cpf_cnpj", "birth_date"]}),
        (_("Details"), {"fields": ["first_name", "last_name", "company", "telegram_id", "photo"]}),
        (_("Service"), {"fields": ["wallet", "tags"]}),
        (_("History"), {"fields": ["created_at", "updated_at", "history_link"]}),
    ]

    @admin.display(description=_("WhatsApp"), ordering="number")
    def whatsapp(self, contact):
        return contact.formatted_number

    @admin.display(description=_("changes"))
    def history_link(self, contact):
        if not contact.pk:
            return "—"
        return format_html('<a href="{}">{}</a>', reverse("contacts:history", args=[contact.pk]), _("See the history"))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Contact.NotUpdated:
            # Deleted by somebody else while this form was open: it stays deleted.
            self.message_user(
                request,
                _("Somebody else deleted this contact while you were editing it; your changes were not saved."),
                messages.ERROR,
            )
            return HttpResponseRedirect(reverse("admin:contacts_contact_changelist"))

    def delete_model(self, request, obj):
        contacts_delete(contacts=[obj])

    def delete_queryset(self, request, queryset):
        contacts_delete(contacts=queryset)

    def get_deleted_objects(self, objs, request):
        """Deleting a contact takes what hangs off it along (extra fields,
        tickets and their messages), as the panel's delete does: the
        contact's delete permission is enough. Admin would otherwise ask for
        the permission to delete each of those, which the read-only tickets'
        admin gives nobody, and refuse the delete."""
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        own = {str(self.opts.verbose_name), str(self.opts.verbose_name_plural)}
        return deleted, model_count, {name for name in perms_needed if str(name) in own}, protected

    def get_search_results(self, request, queryset, search_term):
        # The same search as the panel: it knows phones, CPFs and accents.
        return queryset.search(search_term), False

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        contacts_refresh_search(contacts=[form.instance])  # after the extra fields' inline


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["contact", "name", "value"]
    list_filter = ["name"]
    list_select_related = ["contact"]
    search_fields = ["name", "value"]
    raw_id_fields = ["contact"]

    # The values are searched as part of their contact (search_text): refresh
    # it after each write, the previous contact's too when a field moved.
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        contacts_refresh_search(contacts=Contact.objects.filter(pk__in=[obj.contact_id, form.initial.get("contact")]))

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        contacts_refresh_search(contacts=Contact.objects.filter(pk=obj.contact_id))

    def delete_queryset(self, request, queryset):
        owners = set(queryset.values_list("contact_id", flat=True))
        super().delete_queryset(request, queryset)
        contacts_refresh_search(contacts=Contact.objects.filter(pk__in=owners))


class MergedContactInline(admin.StackedInline):
    model = MergedContact
    fields = ["contact_id", "name", "snapshot"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MergeRecord)
class MergeRecordAdmin(ReadOnlyAdmin):
    """Every merge of duplicates, with a snapshot of each contact merged."""

    list_display = ["created_at", "survivor_name", "merged_names", "username", "source"]
    list_filter = ["source", ("user", admin.RelatedOnlyFieldListFilter), "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["survivor_name", "contacts__name"]
    fields = ["created_at", "survivor", "survivor_name", "rules", "user", "username", "source"]
    raw_id_fields = ["survivor"]
    inlines = [MergedContactInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("contacts")

    @admin.display(description=_("merged"))
    def merged_names(self, record):
        return ", ".join(merged.name for merged in record.contacts.all())


@admin.register(Contact.history.model)
class ContactHistoryAdmin(ReadOnlyAdmin):
    """Every recorded state of every contact, deleted ones included: who
    deleted a contact, when, and its last values."""

    list_display = ["history_date", "name", "history_type", "history_user", "history_source", "number", "email"]
    list_filter = ["history_type", "history_source", ("history_user", admin.RelatedOnlyFieldListFilter), "history_date"]
    list_select_related = ["history_user"]
    date_hierarchy = "history_date"
    search_fields = ["name", "number", "email", "cpf_cnpj", "=id"]
    show_full_result_count = False

    def get_fields(self, request, obj=None):
        # The batch only groups records for the timeline.
        return [f.name for f in self.model._meta.fields if f.name not in ("history_change_reason", "history_batch")]


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    """Everyone's saved segments, to rename, unshare or delete; they are
    saved from the list, with its filters, never typed here."""

    list_display = ["name", "owner", "shared", "updated_at"]
    list_filter = ["shared"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username"]
    fields = ["name", "owner", "shared", "filters", "labels", "created_at", "updated_at"]
    readonly_fields = ["owner", "filters", "labels", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False
