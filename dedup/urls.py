"""Remover duplicados's pages, in the contacts' URL namespace, where they
have always been (contacts_portal/urls.py puts them there)."""

from django.urls import path

from . import views

urlpatterns = [
    path("<int:pk>/merge/", views.ContactMergeView.as_view(), name="merge"),
    path("duplicates/", views.DuplicatesView.as_view(), name="duplicates"),
    path("merges/<int:pk>/undo/", views.MergeUndoView.as_view(), name="unmerge"),
    path("jobs/<uuid:token>/merge/", views.DuplicatesMergeView.as_view(), name="duplicates_merge"),
]
