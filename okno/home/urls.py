from django.urls import path
from django.views.generic import RedirectView

app_name = "home"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="contacts:list", permanent=False), name="index"),
]
