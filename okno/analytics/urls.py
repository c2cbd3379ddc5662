from django.urls import path

from okno.analytics import views

app_name = "analytics"

from okno.analytics import views_chats, views_process  # noqa: E402 (appended: the chats and process reports)
urlpatterns = [
    path("calls/", views.calls, name="calls"),
    path("settings/", views.settings_page, name="settings"),
    path("chats/", views_chats.chats, name="chats"),
    path("chats/list/", views_chats.chats_list, name="chats_list"),
    path("process/", views_process.process, name="process"),
]
