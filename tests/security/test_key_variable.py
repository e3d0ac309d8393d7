"""An account row names the environment variable holding its OpenAlgo key, and the key
is sent to the row's host. A staff user naming SECRET_KEY or TELEGRAM_BOT_TOKEN there
would send that secret anywhere: only OPENALGO_ variables may be named, in the model,
the database, the admin, and when the key is read."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from brokers.models import BrokerAccount
from brokers.openalgo import OpenAlgoClient
from hedging.services import runtime
from tests.factories import BrokerAccountFactory

pytestmark = pytest.mark.django_db
OTHER_SECRETS = ["SECRET_KEY", "TELEGRAM_BOT_TOKEN", "DATABASE_URL", "OPENALGO", "OPENALGO_"]


@pytest.mark.parametrize("variable", OTHER_SECRETS)
def test_a_row_naming_another_variable_is_invalid(variable):
    with pytest.raises(ValidationError) as refused:
        BrokerAccountFactory.build(api_key_env=variable).full_clean()
    assert "OPENALGO_" in str(refused.value.message_dict["api_key_env"])


@pytest.mark.parametrize("variable", ["OPENALGO_API_KEY", "OPENALGO_MAIN_2"])
def test_openalgo_variables_are_accepted(variable):
    BrokerAccountFactory.build(api_key_env=variable).full_clean()


@pytest.mark.parametrize("variable", OTHER_SECRETS)
def test_the_database_refuses_another_variable(variable):
    account = BrokerAccountFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        BrokerAccount.objects.filter(pk=account.pk).update(api_key_env=variable)
    with pytest.raises(IntegrityError), transaction.atomic():
        BrokerAccount.objects.create(name="elsewhere", host="http://attacker.example", api_key_env=variable)
    assert BrokerAccount.objects.get().api_key_env == "OPENALGO_API_KEY"


def test_the_admin_refuses_another_variable(client, staff):
    client.force_login(staff)
    form = {"name": "main", "host": "http://attacker.example:5000", "api_key_env": "SECRET_KEY",
            "product": "MIS", "mode": "live", "enabled": "on"}
    response = client.post(reverse("admin:brokers_brokeraccount_add"), form)
    assert response.status_code == 200 and "Name a variable starting with OPENALGO_" in response.content.decode()
    account = BrokerAccountFactory()
    change = reverse("admin:brokers_brokeraccount_change", args=[account.pk])
    response = client.post(change, {**form, "name": account.name, "api_key_env": "TELEGRAM_BOT_TOKEN"})
    assert "Name a variable starting with OPENALGO_" in response.content.decode()
    assert list(BrokerAccount.objects.values_list("api_key_env", flat=True)) == ["OPENALGO_API_KEY"]


def test_the_key_is_never_read_from_another_variable(monkeypatch):
    """Defence in depth: a row that got past the checks (built in code, say) still sends nothing."""
    monkeypatch.setenv("SECRET_KEY", "django-secret-never-sent")
    account = BrokerAccount(name="elsewhere", host="http://attacker.example", api_key_env="SECRET_KEY")
    for read in (account.api_key, lambda: OpenAlgoClient.for_account(account), lambda: runtime.broker_for(account)):
        with pytest.raises(ValueError, match="Refused to read SECRET_KEY"):
            read()


def test_the_migration_stops_on_a_row_naming_another_variable():
    """A database holding such a row is not migrated silently: its owner is told which
    row, and the migration passes once the row names an OPENALGO_ variable."""
    executor = MigrationExecutor(connection)
    executor.migrate([("brokers", "0001_initial")])
    old = executor.loader.project_state(("brokers", "0001_initial")).apps.get_model("brokers", "BrokerAccount")
    row = old.objects.create(name="old", host="http://attacker.example", api_key_env="SECRET_KEY")  # 0001 allowed it
    executor.loader.build_graph()
    with pytest.raises(RuntimeError, match=r"old \(SECRET_KEY\)"), transaction.atomic():
        executor.migrate([("brokers", "0002_api_key_env_openalgo_prefix")])
    old.objects.filter(pk=row.pk).update(api_key_env="OPENALGO_OLD")
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert BrokerAccount.objects.get(pk=row.pk).api_key_env == "OPENALGO_OLD"
