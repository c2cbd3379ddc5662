from django.apps import AppConfig


class RobotsConfig(AppConfig):
    name = "okno.robots"
    label = "robots"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from okno.core import worker
        from okno.deals.deal_extras import register_deal_extra
        from okno.robots import drains, rule_cache, subscribers
        from okno.robots.models import Robot
        from okno.robots.selectors import deal_deadlines, deal_robot_log

        subscribers.register()
        # Lead and event robots are kept a moment by their subscribers; a change here is seen at once.
        for signal in (post_save, post_delete):
            signal.connect(rule_cache.forget, sender=Robot, dispatch_uid=f"robots-rule-cache-{signal}")
        # A deadline's fire lag is what the board shows late: look for due ones every 0.2 s.
        worker.register_drain("deadlines", drains.deadlines_drain, idle_sleep=0.2)
        worker.register_drain("robot_runs", drains.robot_runs_drain, idle_sleep=0.2)
        register_deal_extra("deadlines", deal_deadlines)
        register_deal_extra("robot_runs", deal_robot_log)
        from okno.robots import navigation

        navigation.register()
