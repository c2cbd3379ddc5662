from django.urls import path

from okno.analytics import views

app_name = "analytics"
urlpatterns = [
    path("calls/", views.calls, name="calls"),
    path("settings/", views.settings_page, name="settings"),
]
