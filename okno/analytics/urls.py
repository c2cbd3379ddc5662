from django.urls import path

from okno.analytics import views, views_boards, views_live, views_saved

app_name = "analytics"

from okno.analytics import views_chats, views_process  # noqa: E402 (appended: the chats and process reports)

urlpatterns = [
    path("calls/", views.calls, name="calls"),
    path("settings/", views.settings_page, name="settings"),
    path("live/watch", views_live.watch, name="live_watch"),
    path("boards/", views_boards.boards, name="boards"),
    path("boards/new/", views_boards.board_form, name="board_new"),
    path("boards/<int:board_id>/", views_boards.board, name="board"),
    path("boards/<int:board_id>/edit/", views_boards.board_form, name="board_edit"),
    path("boards/<int:board_id>/remove", views_boards.board_remove, name="board_remove"),
    path("saved/", views_saved.saved, name="saved"),
    path("saved/<int:report_id>/", views_saved.saved_open, name="saved_open"),
    path("saved/<int:report_id>/digest", views_saved.saved_digest, name="saved_digest"),
    path("saved/<int:report_id>/remove", views_saved.saved_remove, name="saved_remove"),
    path("chats/", views_chats.chats, name="chats"),
    path("chats/list/", views_chats.chats_list, name="chats_list"),
    path("process/", views_process.process, name="process"),
    path("process/list/", views_process.process_list, name="process_list"),
]
