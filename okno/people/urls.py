from django.urls import path

from okno.people import views

app_name = "people"
urlpatterns = [
    path("", views.people_index, name="index"),
]
