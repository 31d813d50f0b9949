"""Who sees which customers: the rules of restrict(), for every role."""

import pytest

from kehu.core.permissions import ACTIONS, CHANGE, DELETE, EXPORT, VIEW, restrict
from kehu.customers.models import Customer


def visible(user, action=VIEW):
    return set(restrict(Customer.objects.all(), user, action).values_list("name", flat=True))


@pytest.mark.django_db
def test_sales_see_only_their_own_customers_when_team_does_not_share(users, customers):
    assert visible(users["sales1"]) == {"上海华东贸易有限公司"}
    assert visible(users["sales2"]) == {"北京华北机械厂"}


@pytest.mark.django_db
def test_sales_see_their_teams_customers_when_the_team_shares(users, customers, teams):
    teams["east"].share_customers = True
    teams["east"].save()
    users["sales1"].refresh_from_db()
    assert visible(users["sales1"]) == {"上海华东贸易有限公司", "Hangzhou Silk Co., Ltd."}


@pytest.mark.django_db
def test_a_manager_sees_and_changes_their_team_only(users, customers):
    assert visible(users["manager1"]) == {"上海华东贸易有限公司", "Hangzhou Silk Co., Ltd."}
    assert visible(users["manager1"], CHANGE) == visible(users["manager1"])
    assert visible(users["manager2"]) == {"北京华北机械厂"}


@pytest.mark.django_db
def test_admin_sees_everything(users, customers):
    assert len(visible(users["admin"])) == 3


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["service1", "marketing1", "analyst1"])
def test_other_roles_see_their_team_but_cannot_change_or_delete(users, customers, role):
    assert visible(users[role]) == {"上海华东贸易有限公司", "Hangzhou Silk Co., Ltd."}
    assert visible(users[role], CHANGE) == set()
    assert visible(users[role], DELETE) == set()


@pytest.mark.django_db
def test_nobody_outside_the_north_team_sees_its_customer_for_any_action(users, customers):
    for name, user in users.items():
        if name in {"admin", "manager2", "sales2"}:
            continue
        for action in ACTIONS:
            assert "北京华北机械厂" not in visible(user, action), (name, action)


@pytest.mark.django_db
def test_an_inactive_user_sees_nothing(users, customers):
    users["manager1"].is_active = False
    assert visible(users["manager1"]) == set()
    assert visible(users["manager1"], EXPORT) == set()
