from django.urls import path

from okno.push.views import push_stream

app_name = "push"
urlpatterns = [path("stream", push_stream, name="stream")]
