from django.urls import path

from okno.telephony import views

app_name = "telephony"
urlpatterns = [
    path("unmatched/", views.unmatched, name="unmatched"),
    path("call/", views.call, name="call"),
]
