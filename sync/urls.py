from django.urls import path

from sync.ingest.views import BaserowWebhookView

app_name = "sync"
urlpatterns = [
    path("api/webhooks/baserow/", BaserowWebhookView.as_view(), name="baserow-webhook"),
]
