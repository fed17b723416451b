from django.urls import path

from incidents import api, views

app_name = "incidents"
urlpatterns = [
    path("oncall/", views.home, name="home"),
    path("oncall/report/", views.report, name="report"),
    path("oncall/incidents/new/", views.incident_new, name="new"),
    path("oncall/incidents/<int:incident_id>/", views.incident_detail, name="detail"),
    path("oncall/incidents/<int:incident_id>/ack/", views.incident_ack, name="ack"),
    path("oncall/incidents/<int:incident_id>/move/", views.incident_move, name="move"),
    path("oncall/incidents/<int:incident_id>/note/", views.incident_note, name="note"),
    path("oncall/incidents/<int:incident_id>/severity/", views.incident_severity, name="severity"),
    path("oncall/incidents/<int:incident_id>/flags/", views.incident_flags, name="flags"),
    path("oncall/incidents/<int:incident_id>/update/", views.incident_status_update, name="status_update"),
    path("oncall/incidents/<int:incident_id>/gdpr/", views.incident_gdpr, name="gdpr"),
    path("oncall/pages/<int:page_id>/", views.page_detail, name="page"),
    path("oncall/calendar.ics", views.calendar_mine, name="calendar"),
    path("oncall/calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("api/alerts/uptimerobot/", api.UptimeRobotAlertView.as_view(), name="alert_uptimerobot"),
    path("api/alerts/generic/", api.GenericAlertView.as_view(), name="alert_generic"),
    path("api/incidents/", api.IncidentListView.as_view(), name="api_list"),
    path("api/incidents/<int:incident_id>/", api.IncidentDetailView.as_view(), name="api_detail"),
    path("api/incidents/<int:incident_id>/ack/", api.IncidentAckView.as_view(), name="api_ack"),
]
