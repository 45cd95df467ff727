from django.conf import settings
from django.urls import path

from contacts_portal.uploads import max_upload_size

from . import duplicate_views, job_views, views

app_name = "contacts"

urlpatterns = [
    path("", views.ContactListView.as_view(), name="list"),
    path("add/", views.ContactCreateView.as_view(), name="create"),
    path("<int:pk>/edit/", views.ContactUpdateView.as_view(), name="update"),
    path("<int:pk>/delete/", views.ContactDeleteView.as_view(), name="delete"),
    path("<int:pk>/history/", views.ContactHistoryView.as_view(), name="history"),
    path("<int:pk>/photo/", views.ContactPhotoView.as_view(), name="photo"),
    path("<int:pk>/merge/", duplicate_views.ContactMergeView.as_view(), name="merge"),
    path("duplicates/", duplicate_views.DuplicatesView.as_view(), name="duplicates"),
    path("jobs/<uuid:token>/merge/", duplicate_views.DuplicatesMergeView.as_view(), name="duplicates_merge"),
    path("import/", max_upload_size(settings.IMPORT_MAX_FILE_BYTES)(job_views.ImportView.as_view()), name="import"),
    path("import/template/", job_views.ImportTemplateView.as_view(), name="import_template"),
    path("export/", job_views.ExportView.as_view(), name="export"),
    path("jobs/<uuid:token>/", job_views.JobView.as_view(), name="job"),
    path("jobs/<uuid:token>/import/", job_views.ImportConfirmView.as_view(), name="import_confirm"),
    path("jobs/<uuid:token>/<str:which>/", job_views.JobFileView.as_view(), name="job_file"),
]
