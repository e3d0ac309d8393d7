import os
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from config.dbschema import schema_table
from config.reporting import protect_secret

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
# A row may name only a variable meant for an OpenAlgo key: naming SECRET_KEY or
# TELEGRAM_BOT_TOKEN would send that secret, as `apikey`, to the row's host.
KEY_PREFIX = "OPENALGO_"
KEY_VARIABLE = re.compile(rf"^{KEY_PREFIX}[A-Z0-9_]+$")
DEFAULT_KEY_VARIABLE = "OPENALGO_API_KEY"


class Index(models.TextChoices):
    NIFTY = "NIFTY", "NIFTY"
    SENSEX = "SENSEX", "SENSEX"


class Exchange(models.TextChoices):
    NSE = "NSE", "NSE"
    BSE = "BSE", "BSE"


# Where each index's options trade, and where its spot is quoted (OpenAlgo's names).
INDEX_EXCHANGE: dict[str, str] = {Index.NIFTY: Exchange.NSE, Index.SENSEX: Exchange.BSE}
OPTION_EXCHANGE: dict[str, str] = {Index.NIFTY: "NFO", Index.SENSEX: "BFO"}
SPOT_EXCHANGE: dict[str, str] = {Index.NIFTY: "NSE_INDEX", Index.SENSEX: "BSE_INDEX"}


class Product(models.TextChoices):
    MIS = "MIS", "MIS (intraday)"
    NRML = "NRML", "NRML (carry forward)"


class Mode(models.TextChoices):
    PAPER = "paper", "Paper (orders recorded, never sent)"
    LIVE = "live", "Live (orders sent to the broker)"


def validate_env_name(value: str) -> None:
    if not ENV_NAME.match(value):
        raise ValidationError(
            "Give the name of an environment variable (A-Z, 0-9, _), not the key itself."
        )
    if not KEY_VARIABLE.match(value):
        raise ValidationError(
            f"Name a variable starting with {KEY_PREFIX} (e.g. OPENALGO_API_KEY): only those may hold OpenAlgo keys."
        )


def key_from_environment(variable: str) -> str:
    """The variable's value; the default account variable, while unset, the settings'
    OPENALGO_API_KEY_DEFAULT (development: the simulated broker's key; production: none)."""
    if variable == DEFAULT_KEY_VARIABLE and variable not in os.environ:
        return settings.OPENALGO_API_KEY_DEFAULT
    return os.environ.get(variable, "")


class BrokerAccount(models.Model):
    """A trader's OpenAlgo server. The API key lives in the environment; the row only
    names the variable, so the key never reaches the database, a page or a log."""

    name = models.CharField(max_length=100, unique=True)
    host = models.URLField(help_text="OpenAlgo server, e.g. http://127.0.0.1:5000")
    api_key_env = models.CharField(
        "API key variable",
        max_length=100,
        default=DEFAULT_KEY_VARIABLE,
        validators=[validate_env_name],
        help_text=f"Name of the environment variable that holds the OpenAlgo API key ({KEY_PREFIX}…).",
    )
    # The hedges' product matches the strategies': NRML unless they are intraday (a broker
    # squares MIS positions off near 15:15, hedges with them).
    product = models.CharField(
        max_length=4, choices=Product.choices, default=Product.NRML, help_text="The strategies' product: the hedges' too."
    )
    mode = models.CharField(max_length=5, choices=Mode.choices, default=Mode.PAPER)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = schema_table("broker_account")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(api_key_env__regex=KEY_VARIABLE.pattern),
                name="broker_account_api_key_env_is_an_openalgo_variable",
                violation_error_message=f"The API key variable must be named {KEY_PREFIX}…",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def api_key(self) -> str:
        if not KEY_VARIABLE.match(self.api_key_env):  # never another variable, whatever the row says
            raise ValueError(f"Refused to read {self.api_key_env}: OpenAlgo keys are read only from {KEY_PREFIX}… variables")
        key = key_from_environment(self.api_key_env)
        protect_secret(key)  # kept out of logs and error reports from the first read
        return key
