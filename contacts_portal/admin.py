from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class PortalAdminSite(admin.AdminSite):
    """Django admin is for administrators only. Agents are kept out even
    when someone marks them staff: admin has no notion of wallets, and the
    panel is where agents work, scoped to theirs."""

    site_header = site_title = "Contacts Portal"

    def has_permission(self, request):
        return super().has_permission(request) and request.user.has_perm("contacts.view_all_contacts")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records nobody may add, change or delete, not even a superuser."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PortalAdminConfig(AdminConfig):
    default_site = "contacts_portal.admin.PortalAdminSite"
