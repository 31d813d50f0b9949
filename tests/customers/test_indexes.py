"""The customer table keeps one index per lookup: each index costs every write of a
customer an entry (the value refresh rewrites the state of up to every customer), so a
column the first column of a composite index already serves has no index of its own."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def _indexes(table: str) -> list[list[str]]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return [c["columns"] for c in found.values() if c["index"] and not c["primary_key"]]


@pytest.mark.parametrize("column", ["lifecycle_state", "owner_id", "team_id"])
def test_state_owner_and_team_are_looked_up_through_composite_indexes_only(column):
    indexes = _indexes("customers_customer")
    assert [column] not in indexes
    assert any(columns[0] == column and len(columns) > 1 for columns in indexes)


def test_the_history_does_not_index_the_state():
    assert ["lifecycle_state"] not in _indexes("customers_historicalcustomer")


def test_the_history_is_indexed_only_by_what_it_is_read_by():
    """The card's history tab and the privacy export read a customer's history by its id
    and time, and a user's deletion clears history_user: every other index would be one
    more entry per history row (a first value refresh writes a million of them)."""
    assert sorted(_indexes("customers_historicalcustomer")) == [
        ["history_date"], ["history_user_id"], ["id"]]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's autovacuum")
def test_postgresql_cleans_up_the_customer_table_after_a_fiftieth_of_it_changed():
    """A refresh that moves a tenth of the customers between states would otherwise leave
    their pages out of the visibility map until a fifth changed, and every count by state
    would read the table instead of its index."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'customers_customer'")
        options = dict(option.split("=") for option in cursor.fetchone()[0] or [])
    assert options == {"autovacuum_vacuum_scale_factor": "0.02",
                       "autovacuum_analyze_scale_factor": "0.02",
                       "autovacuum_vacuum_insert_scale_factor": "0.02"}
