from django.urls import path

from okno.stores import hooks, views

app_name = "stores"
urlpatterns = [
    path("hooks/<str:token>/", hooks.store_hook, name="hook"),
    path("", views.connection_list, name="list"),
    path("new/<str:kind>/", views.connection_edit, name="new"),
    path("<int:pk>/", views.connection_edit, name="edit"),
    path("<int:pk>/test/", views.connection_test, name="test"),
    path("<int:pk>/retry/", views.connection_retry, name="retry"),
]
