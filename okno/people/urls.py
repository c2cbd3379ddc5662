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
    path("users/<int:pk>/tokens/", views.api_tokens, name="user_tokens"),
    path("tokens/", views.api_tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.api_token_revoke, name="token_revoke"),
    path("lockouts/", views.login_lockouts, name="lockouts"),
]
