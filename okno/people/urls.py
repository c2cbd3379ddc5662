from django.urls import path

from okno.people import views

app_name = "people"
urlpatterns = [
    path("", views.people_index, name="index"),
    path("language/", views.language_set, name="language"),
    path("presence/", views.presence_set, name="presence"),
    path("departments/new/", views.department_new, name="department_new"),
    path("departments/<int:pk>/", views.department_edit, name="department_edit"),
    path("users/new/", views.user_new, name="user_new"),
    path("users/<int:pk>/", views.user_edit, name="user_edit"),
]
