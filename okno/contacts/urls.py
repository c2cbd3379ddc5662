from django.urls import path

from okno.contacts import views

app_name = "contacts"
urlpatterns = [
    path("", views.contact_list_page, name="list"),
    path("<int:pk>/", views.contact_card, name="card"),
]
