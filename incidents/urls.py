from django.urls import path

from incidents import views

app_name = "incidents"
urlpatterns = [
    path("oncall/pages/<int:page_id>/", views.page_detail, name="page"),
]
