"""The bookkeeping every writer of a customer keeps (kehu.customers.invariants): search key,
team and owner history, lifecycle history, version and field history — whoever writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kehu.accounts.services import move_user_to_team
from kehu.customers import invariants
from kehu.customers.models import Customer, LifecycleState, OwnerAssignment, TransitionSource
from kehu.customers.services import (
    change_owner,
    create_customer,
    create_transaction,
    set_lifecycle_state,
    update_customer,
)

pytestmark = pytest.mark.django_db


def _books(customer: Customer) -> dict:
    """What the rules say must hold for one customer, read back from the database."""
    customer.refresh_from_db()
    open_periods = list(customer.owner_assignments.filter(ended_at__isnull=True)
                        .values_list("owner_id", flat=True))
    last_transition = customer.lifecycle_transitions.order_by("-at", "-id").first()
    latest = customer.history.order_by("-history_date", "-history_id").first()
    return {
        "open_periods": open_periods,
        "team_is_owners": customer.team_id == customer.owner.team_id,
        "state_has_transition": last_transition is not None
        and last_transition.to_state == customer.lifecycle_state,
        "history_version": latest.version if latest else None,
        "version": customer.version,
    }


def _assert_kept(customer: Customer) -> None:
    books = _books(customer)
    assert books["open_periods"] == [customer.owner_id]
    assert books["team_is_owners"]
    assert books["state_has_transition"]
    assert books["history_version"] == books["version"]


def test_every_service_write_keeps_the_books(users, customers):
    admin, c = users["admin"], customers["east"]
    _assert_kept(c)
    update_customer(admin, c, {"name": "上海新名称贸易公司", "phone": "021-5555-9999"},
                    expected_version=c.version)
    _assert_kept(c)
    assert "shanghai" in c.search_text and "02155559999" in c.search_text
    change_owner(admin, c, users["sales2"], reason="Territory")
    _assert_kept(c)
    set_lifecycle_state(admin, c, LifecycleState.TARGET, reason="Qualified")
    _assert_kept(c)
    assert c.version == 4


def test_a_refresh_that_derives_a_state_keeps_the_books(users, customers):
    """The value refresh moves customers between states in bulk: each move has its
    transition, a new version and a history row, like a move made by hand."""
    from kehu.analytics.refresh import refresh_values

    c = customers["east"]
    today = dt.date.today()
    for days in (400, 200, 20):
        create_transaction(users["admin"], c, date=today - dt.timedelta(days=days),
                           amount=Decimal("100"), cost=Decimal("60"))
    version = Customer.objects.get(pk=c.pk).version
    refresh_values(users["admin"])
    c.refresh_from_db()
    assert c.lifecycle_state in {LifecycleState.REPEAT_PURCHASE, LifecycleState.LOYAL}
    assert c.version == version + 1
    transition = c.lifecycle_transitions.order_by("-at", "-id").first()
    assert transition.source == TransitionSource.DERIVED and transition.reason
    latest = c.history.order_by("-history_date", "-history_id").first()
    assert latest.lifecycle_state == c.lifecycle_state and latest.version == c.version
    assert "refresh" in latest.history_change_reason


def test_a_bulk_state_change_leaves_a_state_changed_meanwhile_alone(users, customers):
    c = customers["east"]
    set_lifecycle_state(users["admin"], c, LifecycleState.TARGET, reason="By hand")
    moved = invariants.set_states(
        [(c.pk, LifecycleState.POTENTIAL, LifecycleState.CHURNED, "stale read")],
        source=TransitionSource.DERIVED, history_reason="test")
    assert moved == []
    c.refresh_from_db()
    assert c.lifecycle_state == LifecycleState.TARGET


def test_a_user_moving_team_keeps_the_books(users, customers, teams):
    c = customers["east"]
    version = c.version
    move_user_to_team(users["admin"], users["sales1"], teams["north"])
    c.refresh_from_db()
    assert c.team == teams["north"] and c.version == version + 1
    latest = c.history.order_by("-history_date", "-history_id").first()
    assert latest.team_id == teams["north"].pk and latest.version == c.version


def test_apply_refuses_to_set_what_it_keeps(users, customers):
    with pytest.raises(ValueError, match="version"):
        invariants.apply([(customers["east"], {"version": 9})], by=users["admin"], reason="x")


def test_insert_keeps_the_books_for_many_at_once(users):
    owner = users["sales2"]
    made = invariants.insert(
        [Customer(name=f"批量客户{i}", owner=owner, lifecycle_state=LifecycleState.TARGET)
         for i in range(3)], by=users["admin"], reason="Loaded", source=TransitionSource.IMPORT)
    for c in made:
        _assert_kept(c)
        assert c.team_id == owner.team_id and "piliangkehu" in c.search_text
    assert OwnerAssignment.objects.filter(customer__in=made).count() == 3


def test_create_customer_refuses_an_external_id_the_user_can_see(users, customers):
    from django.core.exceptions import ValidationError

    update_customer(users["admin"], customers["east"], {"external_id": "ERP-1"},
                    expected_version=None)
    with pytest.raises(ValidationError, match="上海华东贸易有限公司"):
        create_customer(users["sales1"], {"name": "Another", "external_id": "ERP-1"})


def test_an_external_id_held_out_of_scope_tells_nothing(users, customers):
    """sales1 cannot see the North customer: using its external id is answered exactly like
    using a free one, so that nobody learns which ids other teams hold (the duplicate scan
    shows the pair to whoever sees both)."""
    update_customer(users["admin"], customers["north"], {"external_id": "ERP-N"},
                    expected_version=None)
    made = create_customer(users["sales1"], {"name": "Mine", "external_id": "ERP-N"})
    assert made.external_id == "ERP-N"
    free = create_customer(users["sales1"], {"name": "Mine too", "external_id": "ERP-FREE"})
    assert free.external_id == "ERP-FREE"
