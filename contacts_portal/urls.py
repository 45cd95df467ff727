from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from contacts import urls as contacts_urls
from dedup import urls as dedup_urls

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="contacts:list", permanent=False)),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Remover duplicados sits above contacts but has always spoken in the
    # contacts' URL namespace ("contacts:duplicates").
    path("contacts/", include((dedup_urls.urlpatterns + contacts_urls.urlpatterns, contacts_urls.app_name))),
    path("tickets/", include("tickets.urls")),
    path("jobs/", include("jobs.urls")),
    path("admin/", admin.site.urls),
]
