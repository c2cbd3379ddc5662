from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "okno.people"
    label = "people"
