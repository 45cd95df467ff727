from django.urls import path

from contacts_portal.uploads import checks_its_own_body, max_upload_size

from . import views, webhooks

app_name = "tickets"


urlpatterns = [
    path("", views.TicketListView.as_view(), name="list"),
    path("<int:pk>/", views.TicketDetailView.as_view(), name="detail"),
    # A reply may carry a file as large as the largest kept (a document).
    path("<int:pk>/reply/", max_upload_size(views.reply_upload_limit)(views.TicketReplyView.as_view()), name="reply"),
    path("<int:pk>/close/", views.TicketCloseView.as_view(), name="close"),
    path("<int:pk>/reopen/", views.TicketReopenView.as_view(), name="reopen"),
    path("<int:pk>/take/", views.TicketTakeView.as_view(), name="take"),
    path("<int:pk>/contact/", views.TicketContactView.as_view(), name="contact"),
    path("messages/<int:pk>/retry/", views.MessageRetryView.as_view(), name="retry"),
    path("media/<int:pk>/", views.MessageMediaView.as_view(), name="media"),
    path("media/<int:pk>/thumbnail/", views.MessageMediaView.as_view(thumbnail=True), name="media_thumbnail"),
    path("media/<int:pk>/retry/", views.MessageMediaRetryView.as_view(), name="media_retry"),
    path("contact/<int:contact_id>/", views.ContactTicketsView.as_view(), name="contact_tickets"),
    path("start/<int:contact_id>/", views.TicketStartView.as_view(), name="start"),
    path("sync/", views.SyncStartView.as_view(), name="sync"),
    # A sync is a job like the others now; its old address leads to its page.
    path("sync/<int:pk>/", views.SyncJobMovedView.as_view(), name="job"),
    # The webhook refuses an oversized event with 400 itself (see the view).
    path("webhook/<int:channel_id>/", checks_its_own_body(webhooks.WebhookView.as_view()), name="webhook"),
]
