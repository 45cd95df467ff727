from django.urls import path

from . import views

app_name = "bulk"

urlpatterns = [
    path("", views.BulkStartView.as_view(), name="start"),
]
