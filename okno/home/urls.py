from django.urls import path

from okno.home import views

app_name = "home"
urlpatterns = [
    path("", views.my_day, name="index"),
    path("work-items/<int:pk>/done/", views.work_item_done, name="work_item_done"),
]
