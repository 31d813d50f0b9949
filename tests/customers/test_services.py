"""Writing customer files: versions, owners, lifecycle, sensitive tier, transactions."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kehu.audit.models import AuditEvent
from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.customers import services
from kehu.customers.models import OwnerAssignment


@pytest.mark.django_db
def test_a_stale_save_is_refused_and_names_who_changed_it(users, customers):
    c = customers["east"]
    services.update_customer(users["manager1"], c, {"city": "苏州"}, expected_version=1)
    with pytest.raises(StaleVersion) as err:
        services.update_customer(users["sales1"], c, {"city": "南京"}, expected_version=1)
    assert "manager1" in err.value.message
    c.refresh_from_db()
    assert c.city == "苏州" and c.version == 2


@pytest.mark.django_db
def test_every_change_is_in_the_history_with_old_and_new_values(users, customers):
    from kehu.customers.selectors import change_history

    c = services.update_customer(users["sales1"], customers["east"], {"city": "苏州"},
                                 expected_version=1)
    entry = change_history(users["sales1"], c)[0]
    assert entry["user"] == users["sales1"]
    assert {"field": "city", "old": "上海", "new": "苏州", "hidden": False} in [
        {**ch, "field": str(ch["field"])} for ch in entry["changes"]]


@pytest.mark.django_db
def test_sales_without_the_tier_cannot_set_credit_status(users, customers):
    with pytest.raises(NotPermitted) as err:
        services.update_customer(users["sales1"], customers["east"], {"credit_rating": "poor"},
                                 expected_version=1)
    assert err.value.field == "credit_rating"
    users["sales1"].sensitive_tier = True
    services.update_customer(users["sales1"], customers["east"], {"credit_rating": "poor"},
                             expected_version=1)


@pytest.mark.django_db
def test_history_hides_sensitive_values_from_users_without_the_tier(users, customers):
    from kehu.customers.selectors import change_history

    c = services.update_customer(users["manager1"], customers["east"], {"credit_rating": "poor"},
                                 expected_version=1)
    change = change_history(users["sales1"], c)[0]["changes"][0]
    assert change["hidden"] and change["old"] is None and change["new"] is None
    change = change_history(users["manager1"], c)[0]["changes"][0]
    assert change["new"] == "poor"


@pytest.mark.django_db
def test_an_owner_change_is_dated_and_moves_the_customer_to_the_new_team(users, customers):
    c = services.change_owner(users["admin"], customers["east"], users["sales2"],
                              reason="territory")
    assert c.team == users["sales2"].team
    periods = list(OwnerAssignment.objects.filter(customer=c).order_by("started_at"))
    assert [p.owner for p in periods] == [users["sales1"], users["sales2"]]
    assert periods[0].ended_at is not None and periods[1].ended_at is None


@pytest.mark.django_db
def test_sales_cannot_reassign_customers(users, customers):
    with pytest.raises(NotPermitted):
        services.change_owner(users["sales1"], customers["east"], users["sales1b"])


@pytest.mark.django_db
def test_lifecycle_transitions_record_who_and_why(users, customers):
    c = services.set_lifecycle_state(users["sales1"], customers["east"], "target",
                                     reason="met the buyer")
    t = c.lifecycle_transitions.first()
    assert (t.from_state, t.to_state, t.by, t.reason) == ("potential", "target", users["sales1"],
                                                          "met the buyer")


@pytest.mark.django_db
def test_a_return_is_stored_negative_and_gross_profit_is_known(users, customers):
    c = customers["east"]
    order = services.create_transaction(users["sales1"], c, date=date(2024, 1, 2),
                                        amount="100.00", cost="60")
    ret = services.create_transaction(users["sales1"], c, date=date(2024, 1, 5), kind="return",
                                      lines=[{"description": "CD", "quantity": 1,
                                              "unit_price": "20", "unit_cost": "12"}])
    assert order.gross_profit == Decimal("40.00")
    assert (ret.amount, ret.cost) == (Decimal("-20.00"), Decimal("-12.00"))


@pytest.mark.django_db
def test_a_bad_amount_names_the_field(users, customers):
    with pytest.raises(ValidationError) as err:
        services.create_transaction(users["sales1"], customers["east"], date=date(2024, 1, 2),
                                    amount="abc")
    assert "amount" in err.value.message_dict


@pytest.mark.django_db
def test_a_customer_with_transactions_cannot_be_deleted(users, customers):
    c = customers["east"]
    services.create_transaction(users["sales1"], c, date=date(2024, 1, 2), amount=5)
    with pytest.raises(ServiceError):
        services.delete_customer(users["manager1"], c)


@pytest.mark.django_db
def test_changes_and_views_are_audited(users, customers):
    c = customers["east"]
    services.record_customer_view(users["sales1"], c, ip="10.0.0.8")
    services.update_customer(users["sales1"], c, {"city": "苏州"}, expected_version=1)
    actions = list(AuditEvent.objects.filter(customer_id=c.pk).values_list("action", "username"))
    assert ("customer.view", "sales1") in actions
    assert ("customer.update", "sales1") in actions


@pytest.mark.django_db
def test_a_user_outside_the_team_cannot_view_or_log(users, customers):
    with pytest.raises(NotPermitted):
        services.record_customer_view(users["sales2"], customers["east"])
