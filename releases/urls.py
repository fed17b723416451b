from django.urls import path

from releases import api

app_name = "releases"
urlpatterns = [
    path("api/releases/<int:pk>/checks/", api.ReleaseChecks.as_view(), name="api-checks"),
    path("api/bumps/", api.BumpCreate.as_view(), name="api-bumps"),
    path("api/bumps/<int:pk>/ci/", api.BumpCi.as_view(), name="api-bump-ci"),
    path("api/stories/<str:key>/ci/", api.StoryCi.as_view(), name="api-story-ci"),
    path("api/webhooks/dependabot/", api.PullRequestWebhook.as_view(), name="api-dependabot-webhook"),
]
