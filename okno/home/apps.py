from django.apps import AppConfig


class HomeConfig(AppConfig):
    """The user's day (the home page) and the navigation shell: near the top of the import graph,
    it may read every domain's selectors; no domain imports it."""

    name = "okno.home"
    label = "home"

    def ready(self) -> None:
        from okno.home import navigation

        navigation.register()
