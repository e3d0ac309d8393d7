"""The plan keeps Auto-Hedge's tables in the PostgreSQL schema `auto_hedge`.

Django quotes a db_table of the form `schema"."table` as `"schema"."table"`, and its
schema editor splits such names when it builds index and constraint names. SQLite has
no schemas, so there the same tables are plain.
"""

from django.conf import settings

SCHEMA = "auto_hedge"


def uses_schema() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def schema_table(name: str) -> str:
    return f'{SCHEMA}"."{name}' if uses_schema() else name
