from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "okno.people"
    label = "people"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _  # the sidebar's items

        from okno.core import navigation

        navigation.register_item(navigation.SETTINGS, "people", _("People and departments"), "people:index",
                                 order=10, visible=navigation.admins_only)
        # Everyone's own: tokens for their programs (an administrator reaches others' from People).
        navigation.register_item(navigation.SETTINGS, "api_tokens", _("API tokens"), "people:tokens", order=80)
