import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from brokers.models import BrokerAccount
from hedging.models import DailySession
from schedules.models import StrategySchedule

TRADING_DAY = dt.date(2026, 11, 24)  # a Tuesday, NIFTY's weekly expiry


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"trader{n}")
    password = factory.django.Password("pw-for-tests")


class StaffFactory(UserFactory):
    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    is_superuser = True


class BrokerAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BrokerAccount

    name = factory.Sequence(lambda n: f"account-{n}")
    host = "http://127.0.0.1:5000"


class StrategyScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StrategySchedule

    account = factory.SubFactory(BrokerAccountFactory)
    index_name = "NIFTY"
    name = factory.Sequence(lambda n: f"P{n}")
    entry_time = dt.time(9, 20)
    exit_time = dt.time(15, 15)
    baskets = 1


class DailySessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DailySession

    account = factory.SubFactory(BrokerAccountFactory)
    date = TRADING_DAY
    index_name = "NIFTY"
    expiry = TRADING_DAY
    num_baskets = 2
    lots_per_basket = 1
    lot_size = 65
    budget = Decimal("2000000")
