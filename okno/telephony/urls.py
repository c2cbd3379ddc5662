from django.urls import path

from okno.telephony import views, views_calls, views_recordings

app_name = "telephony"
urlpatterns = [
    path("unmatched/", views.unmatched, name="unmatched"),
    path("call/", views.call, name="call"),
    path("calls/", views_calls.calls_list, name="calls"),
    path("calls/<int:call_id>/recording", views_recordings.call_recording, name="call_recording"),
]
