"""Django admin's "merge the selected contacts": the contact admin, with
the action that only the duplicate removal can do."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from contacts.admin import ContactAdmin
from contacts.models import Contact
from audit.recording import Source, recording

from .merging import contacts_merge


admin.site.unregister(Contact)


@admin.register(Contact)
class MergingContactAdmin(ContactAdmin):
    actions = ["merge_selected"]

    @admin.action(description=_("Merge the selected contacts into the oldest"), permissions=["merge"])
    def merge_selected(self, request, queryset):
        selected = list(queryset.values_list("pk", "is_group"))
        if len(selected) < 2 or len({is_group for _pk, is_group in selected}) > 1:
            self.message_user(request, _("Choose two or more contacts, all people or all groups."), messages.ERROR)
            return
        with recording(source=Source.MERGE, user=request.user):
            result = contacts_merge(groups=[[pk for pk, _g in selected]], rules=[["manual"]], audit={"from": "admin", "manual": True})
        self.message_user(
            request,
            ngettext("%(count)d contact was merged into the oldest.", "%(count)d contacts were merged into the oldest.", result.contacts)
            % {"count": result.contacts},
            messages.SUCCESS,
        )

    def has_merge_permission(self, request):
        return request.user.has_perm("contacts.merge_contacts")
