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
