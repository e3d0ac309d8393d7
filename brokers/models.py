import os
import re

from django.core.exceptions import ValidationError
from django.db import models

from config.dbschema import schema_table
from config.reporting import protect_secret

ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


class Index(models.TextChoices):
    NIFTY = "NIFTY", "NIFTY"
    SENSEX = "SENSEX", "SENSEX"


class Exchange(models.TextChoices):
    NSE = "NSE", "NSE"
    BSE = "BSE", "BSE"


# Where each index's options trade, and where its spot is quoted (OpenAlgo's names).
INDEX_EXCHANGE = {Index.NIFTY: Exchange.NSE, Index.SENSEX: Exchange.BSE}
OPTION_EXCHANGE = {Index.NIFTY: "NFO", Index.SENSEX: "BFO"}
SPOT_EXCHANGE = {Index.NIFTY: "NSE_INDEX", Index.SENSEX: "BSE_INDEX"}


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


class BrokerAccount(models.Model):
    """A trader's OpenAlgo server. The API key lives in the environment; the row only
    names the variable, so the key never reaches the database, a page or a log."""

    name = models.CharField(max_length=100, unique=True)
    host = models.URLField(help_text="OpenAlgo server, e.g. http://127.0.0.1:5000")
    api_key_env = models.CharField(
        "API key variable",
        max_length=100,
        default="OPENALGO_API_KEY",
        validators=[validate_env_name],
        help_text="Name of the environment variable that holds the OpenAlgo API key.",
    )
    product = models.CharField(max_length=4, choices=Product.choices, default=Product.MIS)
    mode = models.CharField(max_length=5, choices=Mode.choices, default=Mode.PAPER)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = schema_table("broker_account")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(api_key_env__regex=ENV_NAME.pattern),
                name="broker_account_api_key_env_is_a_name",
                violation_error_message="The API key variable must be an environment variable name.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def api_key(self) -> str:
        key = os.environ.get(self.api_key_env, "")
        protect_secret(key)  # kept out of logs and error reports from the first read
        return key
