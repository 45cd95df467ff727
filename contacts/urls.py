from django.urls import path

from . import views

app_name = "contacts"

urlpatterns = [
    path("", views.ContactListView.as_view(), name="list"),
    path("add/", views.ContactCreateView.as_view(), name="create"),
    path("<int:pk>/edit/", views.ContactUpdateView.as_view(), name="update"),
    path("<int:pk>/delete/", views.ContactDeleteView.as_view(), name="delete"),
    path("<int:pk>/history/", views.ContactHistoryView.as_view(), name="history"),
    path("<int:pk>/photo/", views.ContactPhotoView.as_view(), name="photo"),
]
