"""The option chain's strike list: read from the broker once for all of a worker's
processes (Redis), kept fresh by the minute's margin snapshot, and never a condition
when Redis fails. A second process is stood for by forgetting this process's lists."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import caches

from brokers.openalgo import InProcessTransport, OpenAlgoClient
from hedging.core.settings import HedgeSettings
from hedging.services import selector
from tests.fixtures.simbroker import SIM_DAY


@pytest.fixture
def chain_reads(simbroker_server):
    """The broker over loopback, counting the option chains it is asked for."""
    sim, reads = simbroker_server.sim, []
    handle = sim.handle

    def counted(endpoint, body, *args, **kwargs):
        if endpoint == "optionchain":
            reads.append(sim.clock.now())
        return handle(endpoint, body, *args, **kwargs)

    sim.handle = counted
    caches["market"].delete_many([f"strikes:{simbroker_server.url}:NIFTY:{SIM_DAY:%Y%m%d}"])
    selector.forget()
    yield reads
    selector.forget()


@pytest.fixture
def broker(simbroker_server):
    return OpenAlgoClient(simbroker_server.url, simbroker_server.api_key, rate_limit=False)


SESSION = SimpleNamespace(index_name="NIFTY", expiry=SIM_DAY)
SETTINGS = HedgeSettings.for_index("NIFTY", {})


def test_a_list_read_in_one_process_serves_the_others(broker, chain_reads, simbroker_server):
    now = simbroker_server.sim.clock.now()
    first = selector.strike_list(SESSION, broker, now, SETTINGS)
    selector.forget()  # another worker process: nothing of its own yet

    again = selector.strike_list(SESSION, broker, now + timedelta(minutes=1), SETTINGS)

    assert len(chain_reads) == 1
    assert again == first and len(again.strikes) > 10


def test_the_snapshot_reads_the_list_again_at_half_its_life_so_no_buy_has_to(broker, chain_reads, simbroker_server):
    now = simbroker_server.sim.clock.now()
    selector.strike_list(SESSION, broker, now, SETTINGS)

    selector.warm(SESSION, broker, now + timedelta(seconds=selector.WARM_AFTER - 30), SETTINGS)
    selector.forget()  # a process without the list asks Redis its age
    selector.warm(SESSION, broker, now + timedelta(seconds=selector.WARM_AFTER - 30), SETTINGS)
    assert len(chain_reads) == 1
    selector.warm(SESSION, broker, now + timedelta(seconds=selector.WARM_AFTER + 30), SETTINGS)
    assert len(chain_reads) == 2
    selector.forget()
    # A buy in another process, past the first list's life, finds the snapshot's.
    selector.strike_list(SESSION, broker, now + timedelta(seconds=selector.CHAIN_TTL + 30), SETTINGS)
    assert len(chain_reads) == 2


def test_with_redis_down_the_broker_is_asked_and_redis_left_alone_for_a_while(
    broker, chain_reads, simbroker_server, settings, caplog
):
    settings.CACHES = {**settings.CACHES, "market": {**settings.CACHES["market"], "LOCATION": "redis://127.0.0.1:1/0"}}
    now = simbroker_server.sim.clock.now()

    chain = selector.strike_list(SESSION, broker, now, SETTINGS)
    selector.strike_list(SESSION, broker, now, SETTINGS, fresh=True)  # as when spot ran away from the list

    assert len(chain.strikes) > 10 and len(chain_reads) == 2
    assert [r.getMessage() for r in caplog.records if r.name == selector.log.name] == [
        "shared strike lists left alone for 60 s: ConnectionError"
    ]


def test_an_in_process_broker_keeps_its_list_to_this_process(simbroker, chain_reads):
    host = "inprocess://replay-test"
    broker = OpenAlgoClient(host, simbroker.api_key, transport=InProcessTransport(simbroker.handle), rate_limit=False)

    selector.strike_list(SESSION, broker, simbroker.clock.now(), SETTINGS)

    assert caches["market"].get(f"strikes:{host}:NIFTY:{SIM_DAY:%Y%m%d}") is None
