import pytest

from kehu.accounts.services import move_user_to_team
from kehu.core.permissions import restrict
from kehu.customers.models import Customer


@pytest.mark.django_db
def test_a_user_moving_team_takes_their_customers_along(users, customers, teams):
    move_user_to_team(users["admin"], users["sales1"], teams["north"])
    customers["east"].refresh_from_db()
    assert customers["east"].team == teams["north"]
    seen = set(restrict(Customer.objects.all(), users["manager2"], "view").values_list(
        "name", flat=True))
    assert "上海华东贸易有限公司" in seen
    assert "上海华东贸易有限公司" not in set(
        restrict(Customer.objects.all(), users["manager1"], "view").values_list("name", flat=True))
