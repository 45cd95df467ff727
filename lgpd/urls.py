from django.urls import path

from . import views

app_name = "lgpd"

urlpatterns = [
    path("contact/<int:contact_id>/", views.ContactLgpdView.as_view(), name="contact"),
    path("contact/<int:contact_id>/report.json", views.ReportDownloadView.as_view(), name="report_json"),
    path("contact/<int:contact_id>/report/", views.ReportPageView.as_view(), name="report"),
    path("contact/<int:contact_id>/erase/", views.ErasureView.as_view(), name="erase"),
]
