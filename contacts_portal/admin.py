from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.options import TO_FIELD_VAR
from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _

#: A date hierarchy's parts: ?created_at__year=2024&created_at__month=5.
DATE_PARTS = ("__year", "__month", "__day")


def malformed_admin_parameters(request) -> bool:
    """The parameters Django admin itself turns into a server error rather
    than a refusal: an empty ?_to_field= (it looks up a field named ""),
    a date hierarchy's year, month or day too large for a date
    (OverflowError, where it expects ValueError), and a NUL character in a
    search or a filter, which PostgreSQL refuses in text."""
    if any("\x00" in key + "".join(values) for key, values in request.GET.lists()):
        return True
    to_fields = request.GET.getlist(TO_FIELD_VAR) + (request.POST.getlist(TO_FIELD_VAR) if request.method == "POST" else [])
    if "" in to_fields:
        return True
    return any(
        key.endswith(DATE_PARTS) and any(len(value.strip()) > 9 for value in values) for key, values in request.GET.lists()
    )


class PortalAdminSite(admin.AdminSite):
    """Django admin is for administrators only. Agents are kept out even
    when someone marks them staff: admin has no notion of wallets, and the
    panel is where agents work, scoped to theirs."""

    site_header = site_title = "Contacts Portal"

    def has_permission(self, request):
        return super().has_permission(request) and request.user.has_perm("contacts.view_all_contacts")

    def admin_view(self, view, cacheable=False):
        @wraps(view)
        def checked(request, *args, **kwargs):
            if malformed_admin_parameters(request):
                return HttpResponseBadRequest(_("The address has a parameter that is not valid."))
            return view(request, *args, **kwargs)

        return super().admin_view(checked, cacheable)


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
