import os

from celery import Celery
from celery.signals import task_postrun, task_prerun
from kombu import Connection

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("autohedge")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
@task_postrun.connect
def close_old_connections(task, **kwargs):
    """As around a request: keep the connection for CONN_MAX_AGE, drop a broken one
    (CELERY_DB_REUSE_MAX stops Celery closing it after every task). An eager task runs
    inside its caller's transaction: leave that alone."""
    from django.db import close_old_connections

    if not task.request.is_eager:
        close_old_connections()


def _close_self_once(close_self):
    """kombu 5.7 + Celery 5.7: when Redis goes away, the worker's collect() then close()
    closes the default channel twice, the second time through a detached transport
    (AttributeError: the worker exits). Forget the channel once closed; Redis restores
    the unacknowledged messages itself. Held by tests/outages/test_redis_restart.py."""

    def close(self):
        try:
            close_self(self)
        finally:
            self._default_channel = None

    return close


# A deliberate patch of kombu's method, which mypy flags as such (method-assign).
Connection._do_close_self = _close_self_once(Connection._do_close_self)  # type: ignore[method-assign]
