from django.apps import AppConfig


class HedgingConfig(AppConfig):
    name = "hedging"
    verbose_name = "Auto-Hedge"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from hedging.models import ExchangeHoliday, MarginConstant
        from hedging.services.calculator import forget_reference

        for model in (ExchangeHoliday, MarginConstant):
            for signal in (post_save, post_delete):
                signal.connect(forget_reference, sender=model, dispatch_uid=f"forget_{model.__name__}_{id(signal)}")
