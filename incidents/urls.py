from django.urls import path

from incidents.postmortems import restore_views
from incidents.postmortems import views as postmortem_views
from incidents.status import views as status_views
from incidents.web import api, views

app_name = "incidents"
urlpatterns = [
    path("status.json", status_views.status_json, name="status_json"),
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
    path("oncall/incidents/<int:incident_id>/restore/", restore_views.incident_restore, name="restore"),
    path("oncall/incidents/<int:incident_id>/runbook/", views.incident_runbook, name="runbook_set"),
    path("oncall/incidents/<int:incident_id>/postmortem/", postmortem_views.postmortem_start_view,
         name="postmortem_start"),
    path("oncall/postmortems/", postmortem_views.postmortem_list, name="postmortems"),
    path("oncall/postmortems/<int:post_mortem_id>/", postmortem_views.postmortem_detail, name="postmortem"),
    path("oncall/postmortems/<int:post_mortem_id>/submit/", postmortem_views.postmortem_submit_view,
         name="postmortem_submit"),
    path("oncall/postmortems/<int:post_mortem_id>/return/", postmortem_views.postmortem_return_view,
         name="postmortem_return"),
    path("oncall/postmortems/<int:post_mortem_id>/publish/", postmortem_views.postmortem_publish_view,
         name="postmortem_publish"),
    path("oncall/postmortems/<int:post_mortem_id>/markdown/", postmortem_views.postmortem_download,
         name="postmortem_markdown"),
    path("oncall/postmortems/<int:post_mortem_id>/action-items/", postmortem_views.action_item_add_view,
         name="action_item_add"),
    path("oncall/action-items/<int:item_id>/status/", postmortem_views.action_item_status_view,
         name="action_item_status"),
    path("oncall/action-items/<int:item_id>/reschedule/", postmortem_views.action_item_reschedule_view,
         name="action_item_reschedule"),
    path("oncall/runbooks/", postmortem_views.runbook_list, name="runbooks"),
    path("oncall/runbooks/<slug:slug>/", postmortem_views.runbook_detail, name="runbook"),
    path("oncall/pages/<int:page_id>/", views.page_detail, name="page"),
    path("oncall/calendar.ics", views.calendar_mine, name="calendar"),
    path("oncall/calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("oncall/calendar/reset/", views.calendar_reset, name="calendar_reset"),
    path("api/alerts/uptimerobot/", api.UptimeRobotAlertView.as_view(), name="alert_uptimerobot"),
    path("api/alerts/generic/", api.GenericAlertView.as_view(), name="alert_generic"),
    path("api/incidents/", api.IncidentListView.as_view(), name="api_list"),
    path("api/incidents/<int:incident_id>/", api.IncidentDetailView.as_view(), name="api_detail"),
    path("api/incidents/<int:incident_id>/ack/", api.IncidentAckView.as_view(), name="api_ack"),
]
