from django.urls import path

from okno.outbox import views

app_name = "outbox"
urlpatterns = [
    path("webhooks/", views.endpoint_list, name="endpoints"),
    path("webhooks/new/", views.endpoint_new, name="endpoint_new"),
    path("webhooks/<int:pk>/", views.endpoint_page, name="endpoint"),
    path("webhooks/<int:pk>/action/", views.endpoint_action, name="endpoint_action"),
    path("templates/", views.template_list, name="templates"),
    path("templates/new/", views.template_edit, name="template_new"),
    path("templates/preview/", views.template_preview, name="template_preview"),
    path("templates/<int:pk>/", views.template_edit, name="template"),
    path("sms/", views.sms_providers, name="sms_providers"),
    path("sms/<int:pk>/", views.sms_providers, name="sms_provider"),
    path("problems/", views.problems_page, name="problems"),
    path("problems/retry/", views.problems_retry, name="problems_retry"),
]
