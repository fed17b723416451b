from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny

from formation_hub.api import views as api_views
from formation_hub.console import views

handler400 = "formation_hub.api.errors.handler400"
handler403 = "formation_hub.api.errors.handler403"
handler404 = "formation_hub.api.errors.handler404"
handler500 = "formation_hub.api.errors.handler500"

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="api-schema"),
    path("api/gates/", api_views.GateList.as_view(), name="api-gates"),
    path("api/gates/<int:pk>/decide/", api_views.GateDecide.as_view(), name="api-gate-decide"),
    path("", include("sync.urls")),
    path("", include("incidents.urls")),
    path("", include("releases.urls")),
]
