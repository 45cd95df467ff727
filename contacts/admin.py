from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .forms import ContactAdminForm
from .models import Contact, CustomField, Tag, Wallet
from .services import contacts_delete

admin.site.site_header = admin.site.site_title = "Contacts Portal"


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = ["name", "user"]
    list_filter = ["user"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "color"]
    search_fields = ["name"]


class CustomFieldInline(admin.TabularInline):
    model = CustomField
    extra = 1


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    form = ContactAdminForm
    list_display = ["name", "whatsapp", "wallet", "telegram_id", "email", "is_group", "created_at"]
    list_filter = ["is_group", "wallet", "tags"]
    list_select_related = ["wallet"]
    search_fields = ["name"]  # replaced by Contact.objects.search(), see below
    search_help_text = _("Name, phone, e-mail, company or CPF/CNPJ.")
    filter_horizontal = ["tags"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [CustomFieldInline]
    show_full_result_count = False
    fieldsets = [
        # is_group comes before number: it decides how the number is checked.
        (None, {"fields": ["name", "is_group", "number", "email", "cpf_cnpj", "birth_date"]}),
        (_("Details"), {"fields": ["first_name", "last_name", "company", "telegram_id", "photo"]}),
        (_("Service"), {"fields": ["wallet", "tags"]}),
        (_("History"), {"fields": ["created_at", "updated_at"]}),
    ]

    @admin.display(description=_("WhatsApp"), ordering="number")
    def whatsapp(self, contact):
        return contact.formatted_number

    def delete_model(self, request, obj):
        contacts_delete(contacts=[obj])

    def delete_queryset(self, request, queryset):
        contacts_delete(contacts=list(queryset))

    def get_search_results(self, request, queryset, search_term):
        # The same search as the panel: it knows phones, CPFs and accents.
        return queryset.search(search_term), False


@admin.register(CustomField)
class CustomFieldAdmin(admin.ModelAdmin):
    list_display = ["contact", "name", "value"]
    list_filter = ["name"]
    list_select_related = ["contact"]
    search_fields = ["name", "value"]
    raw_id_fields = ["contact"]
