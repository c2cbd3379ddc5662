from django.urls import path

from okno.work import views

app_name = "work"
urlpatterns = [
    path("", views.my_work, name="mine"),
    path("for-contact/<int:contact_id>/", views.for_contact, name="for_contact"),
    path("<int:pk>/done/", views.done, name="done"),
    path("<int:pk>/take/", views.take, name="take"),
]

# The supervisor board (issue 18).
from okno.work import views_board  # noqa: E402

urlpatterns += [path("board/", views_board.board, name="board")]

# The manager screen (issue 18).
from okno.work import views_screen  # noqa: E402

urlpatterns += [
    path("screen/", views_screen.screen_page, name="screen"),
    path("screen/next/", views_screen.screen_next, name="screen_next"),
    path("screen/break/", views_screen.screen_break, name="screen_break"),
    path("screen/counters/", views_screen.screen_counters_view, name="screen_counters"),
    path("screen/<int:pk>/outcome/", views_screen.screen_outcome, name="screen_outcome"),
    path("screen/<int:pk>/call/", views_screen.screen_call_view, name="screen_call"),
    path("screen/contact/<int:pk>/", views_screen.screen_contact, name="screen_contact"),
]

# The head's queue (issue 18).
from okno.work import views_queue  # noqa: E402

urlpatterns += [
    path("queue/", views_queue.queue_page, name="queue"),
    path("queue/<int:pk>/assign/", views_queue.queue_assign, name="queue_assign"),
]

# A department's work settings page (issue 18).
from okno.work import views_settings  # noqa: E402

urlpatterns += [path("settings/<int:department_id>/", views_settings.work_settings_page, name="settings")]
