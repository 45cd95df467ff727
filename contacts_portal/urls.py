from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from accounts.forms import AdminLogInForm, LogInForm
from contacts import urls as contacts_urls
from dedup import urls as dedup_urls

# Admin pages of models that moved to an app of their own, by their old
# address -> the new one (a sync job's number is not its job's: its list).
ADMIN_MOVED = {
    "contacts/auditevent": "audit/auditevent",
    "contacts/job": "jobs/job",
    "tickets/syncjob": "jobs/job",
}


def admin_moved(request, old: str, rest: str):
    new = ADMIN_MOVED[old]
    if old == "tickets/syncjob":
        return HttpResponsePermanentRedirect(f"/admin/{new}/?kind__in=sync,sync_groups")
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"/admin/{new}/{rest}" + (f"?{query}" if query else ""))


def favicon(request):
    # Resolved per request: the manifest of hashed static names exists only
    # after collectstatic, not when this module is imported.
    return HttpResponsePermanentRedirect(static("favicon.svg"))


# Admin's log-in says how many attempts are left, as the panel's does.
admin.site.login_form = AdminLogInForm

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="contacts:list", permanent=False)),
    # Pages without the icon's <link> (Django admin) ask for /favicon.ico.
    path("favicon.ico", favicon, name="favicon"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LogInForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Remover duplicados sits above contacts but has always spoken in the
    # contacts' URL namespace ("contacts:duplicates").
    path("contacts/", include((dedup_urls.urlpatterns + contacts_urls.urlpatterns, contacts_urls.app_name))),
    path("tickets/", include("tickets.urls")),
    path("jobs/", include("jobs.urls")),
    path("contacts/bulk/", include("bulk.urls")),
    path("lgpd/", include("lgpd.urls")),
    re_path(r"^admin/(?P<old>contacts/auditevent|contacts/job|tickets/syncjob)/(?P<rest>.*)$", admin_moved, name="admin_moved"),
    path("admin/", admin.site.urls),
]
