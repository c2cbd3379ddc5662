from django.urls import path

from okno.robots import views

app_name = "robots"
urlpatterns = [
    path("", views.index, name="index"),
    path("pipelines/<int:pk>/", views.pipeline_robots, name="pipeline"),
    path("leads/", views.lead_robots, name="leads"),
    path("new/", views.robot_new, name="new"),
    path("<int:pk>/", views.robot_edit, name="edit"),
    path("<int:pk>/delete/", views.robot_delete, name="delete"),
    path("problems/", views.problems_page, name="problems"),
    path("problems/retry/", views.problems_retry, name="problems_retry"),
    path("registers/<slug:name>/export.xlsx", views.register_export, name="register_export"),
]
