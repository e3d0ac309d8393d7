"""PostgreSQL with Auto-Hedge's tables in the `auto_hedge` schema (see config.dbschema).

Django's introspection lists only the tables on the search path, so without this the
schema's tables would be invisible to `flush` (and to the test runner's cleanup)."""

from django.db.backends.postgresql import base, introspection

from config.dbschema import SCHEMA

KINDS = {"r": "t", "p": "p", "v": "v", "m": "v"}


class DatabaseIntrospection(introspection.DatabaseIntrospection):
    def get_table_list(self, cursor):
        tables = super().get_table_list(cursor)
        cursor.execute(
            """SELECT c.relname, c.relkind FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm')""",
            [SCHEMA],
        )
        return tables + [
            introspection.TableInfo(f'{SCHEMA}"."{name}', KINDS[kind], None) for name, kind in cursor.fetchall()
        ]


class DatabaseWrapper(base.DatabaseWrapper):
    introspection_class = DatabaseIntrospection
