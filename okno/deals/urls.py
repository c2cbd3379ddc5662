from django.urls import path

from okno.deals import views

app_name = "deals"
urlpatterns = [
    path("leads/", views.leads_page, name="leads"),
    path("leads/notifications/", views.notifications, name="notifications"),
    path("leads/<int:pk>/read/", views.lead_read, name="lead_read"),
    path("leads/<int:pk>/take/", views.lead_take, name="lead_take"),
]
