from django.urls import path

from releases import api

app_name = "releases"
urlpatterns = [
    path("api/releases/<int:pk>/checks/", api.ReleaseChecks.as_view(), name="api-checks"),
]
