from django.conf import settings
from django.urls import path

from contacts_portal.uploads import max_upload_size
from jobs.views import JobMovedView

from . import views
from .transfer import views as transfer_views

app_name = "contacts"

urlpatterns = [
    path("", views.ContactListView.as_view(), name="list"),
    path("add/", views.ContactCreateView.as_view(), name="create"),
    path("<int:pk>/edit/", views.ContactUpdateView.as_view(), name="update"),
    path("<int:pk>/delete/", views.ContactDeleteView.as_view(), name="delete"),
    path("<int:pk>/history/", views.ContactHistoryView.as_view(), name="history"),
    path("<int:pk>/photo/", views.ContactPhotoView.as_view(), name="photo"),
    path("segments/", views.SegmentListView.as_view(), name="segments"),
    path("segments/add/", views.SegmentCreateView.as_view(), name="segment_create"),
    path("segments/<int:pk>/edit/", views.SegmentUpdateView.as_view(), name="segment_update"),
    path("segments/<int:pk>/delete/", views.SegmentDeleteView.as_view(), name="segment_delete"),
    path("opt-outs/<int:pk>/lift/", views.OptOutLiftView.as_view(), name="optout_lift"),
    path("import/", max_upload_size(settings.IMPORT_MAX_FILE_BYTES)(transfer_views.ImportView.as_view()), name="import"),
    path("import/template/", transfer_views.ImportTemplateView.as_view(), name="import_template"),
    path("export/", transfer_views.ExportView.as_view(), name="export"),
    path("jobs/<uuid:token>/import/", transfer_views.ImportConfirmView.as_view(), name="import_confirm"),
    # Every job has its page in the jobs app now; these addresses lead there.
    path("jobs/<uuid:token>/", JobMovedView.as_view(), name="job"),
    path("jobs/<uuid:token>/<str:which>/", JobMovedView.as_view(pattern_name="jobs:file"), name="job_file"),
]
