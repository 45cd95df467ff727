from django.urls import path

from . import views, webhooks

app_name = "tickets"

urlpatterns = [
    path("webhook/<int:channel_id>/", webhooks.WebhookView.as_view(), name="webhook"),
]
