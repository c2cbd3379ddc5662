from django.urls import path

from okno.invoices import views

app_name = "invoices"
urlpatterns = [
    path("for-contact/<int:contact_id>/", views.for_contact, name="for_contact"),
    path("<int:pk>/payments/", views.payment, name="payment"),
]
