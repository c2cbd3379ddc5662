from django.urls import path

from okno.core import views_calendars as views

app_name = "calendars"
urlpatterns = [
    path("", views.calendar_index, name="index"),
    path("new/", views.calendar_new, name="new"),
    path("<int:pk>/", views.calendar_edit, name="edit"),
]
