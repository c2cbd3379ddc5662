from django.urls import path

from okno.telephony import views, views_recordings

app_name = "telephony"
urlpatterns = [
    path("unmatched/", views.unmatched, name="unmatched"),
    path("call/", views.call, name="call"),
    path("calls/<int:call_id>/recording", views_recordings.call_recording, name="call_recording"),
]
