from django.apps import AppConfig


class HedgingConfig(AppConfig):
    name = "hedging"
    verbose_name = "Auto-Hedge"

    def ready(self):
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.db.models.signals import post_delete, post_save

        from config.logins import note_password
        from hedging.models import ExchangeHoliday, MarginConstant
        from hedging import tasks
        from hedging.services import audit, runtime
        from hedging.services.calculator import forget_reference

        runtime.use_queue(runtime.Queue(deliver_alert=tasks.deliver_alert_later, dispatch=tasks.execute_hedge_later))

        for model in (ExchangeHoliday, MarginConstant):
            for signal in (post_save, post_delete):
                signal.connect(forget_reference, sender=model, dispatch_uid=f"forget_{model.__name__}_{id(signal)}")

        user_logged_in.connect(note_password, dispatch_uid="note_password")
        user_logged_in.connect(audit.logged_in, dispatch_uid="audit_logged_in")
        user_logged_out.connect(audit.logged_out, dispatch_uid="audit_logged_out")
        user_login_failed.connect(audit.login_failed, dispatch_uid="audit_login_failed")
