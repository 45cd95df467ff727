from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from contacts_portal.admin import ReadOnlyAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "action", "username", "source", "counts_summary"]
    list_filter = ["action", "source", ("user", admin.RelatedOnlyFieldListFilter), "created_at"]
    date_hierarchy = "created_at"
    search_fields = ["username"]
    fields = ["created_at", "action", "user", "username", "source", "parameters", "counts"]

    @admin.display(description=_("counts"))
    def counts_summary(self, event):
        return ", ".join(f"{name}: {value}" for name, value in event.counts.items())
