from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("", views.JobListView.as_view(), name="list"),
    path("<uuid:token>/", views.JobView.as_view(), name="detail"),
    path("<uuid:token>/again/", views.JobRunAgainView.as_view(), name="again"),
    path("<uuid:token>/<str:which>/", views.JobFileView.as_view(), name="file"),
]
