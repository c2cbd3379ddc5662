from django.apps import AppConfig


class RobotsConfig(AppConfig):
    name = "okno.robots"
    label = "robots"

    def ready(self) -> None:
        from okno.core import worker
        from okno.deals.deal_extras import register_deal_extra
        from okno.robots import drains, subscribers
        from okno.robots.selectors import deal_deadlines, deal_robot_log

        subscribers.register()
        # A deadline's fire lag is what the board shows late: look for due ones every 0.2 s.
        worker.register_drain("deadlines", drains.deadlines_drain, idle_sleep=0.2)
        worker.register_drain("robot_runs", drains.robot_runs_drain, idle_sleep=0.2)
        register_deal_extra("deadlines", deal_deadlines)
        register_deal_extra("robot_runs", deal_robot_log)
        from okno.robots import navigation

        navigation.register()
