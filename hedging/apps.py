from django.apps import AppConfig


class HedgingConfig(AppConfig):
    name = "hedging"
    verbose_name = "Auto-Hedge"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from hedging.models import ExchangeHoliday
        from hedging.services.calculator import forget_holidays

        for signal in (post_save, post_delete):
            signal.connect(forget_holidays, sender=ExchangeHoliday, dispatch_uid=f"forget_holidays_{signal}")
