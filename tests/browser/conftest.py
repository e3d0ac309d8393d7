from tests.api.fixtures import (  # noqa: F401
    celery_eager,
    live_account,
    sim_clock,
    sim_ports,
    sim_session,
    staff,
    staff_api,
    trader,
    trader_api,
    trading_day,
)
