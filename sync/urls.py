from django.urls import path

from sync.ingest.views import baserow_webhook

app_name = "sync"
urlpatterns = [
    path("api/webhooks/baserow/", baserow_webhook, name="baserow-webhook"),
]
