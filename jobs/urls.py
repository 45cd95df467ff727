from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("<uuid:token>/", views.JobView.as_view(), name="detail"),
    path("<uuid:token>/<str:which>/", views.JobFileView.as_view(), name="file"),
]
