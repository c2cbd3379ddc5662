from django.apps import AppConfig


class RobotsConfig(AppConfig):
    name = "okno.robots"
    label = "robots"
