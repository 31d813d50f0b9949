"""The role rules (kehu.core.policy) and what every page and service does with them.

Each page that depends on a role rule is requested by every role — plus a manager without
a team, where the rules used to disagree — and must answer as the policy says. The expected
outcome is computed from the policy itself, so the pages cannot drift from it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kehu.accounts.models import User
from kehu.core import policy
from kehu.core.errors import NotPermitted
from kehu.core.roles import Role
from kehu.customers.services import change_owner, create_customer

pytestmark = pytest.mark.django_db

ROLES = ["admin", "manager1", "sales1", "service1", "marketing1", "analyst1", "manager2",
         "sales2", "lonely_manager"]


@pytest.fixture
def people(users):
    lonely = User.objects.create_user(username="lonely_manager", password="x-pass-123456",
                                      role=Role.MANAGER, team=None)
    return {**users, "lonely_manager": lonely}


# (rule, url name, method): pages whose whole answer is decided by one rule.
PAGES = [
    (policy.may_create_customers, "customers:create", "get"),
    (lambda u: bool(policy.importable_kinds(u)), "dataio:import", "get"),
    (policy.may_export, "dataio:export", "get"),
    (policy.may_see_value_dashboard, "analytics:dashboard", "get"),
    (policy.may_read_audit_log, "audit:events", "get"),
    (policy.may_see_forecast, "sales:forecast", "get"),
    (policy.may_change_settings, "sales:stages", "get"),
]


@pytest.mark.parametrize("role", ROLES)
def test_pages_answer_as_the_policy_says(role, people, client):
    user = people[role]
    client.force_login(user)
    for rule, name, method in PAGES:
        response = getattr(client, method)(reverse(name))
        if rule(user):
            assert response.status_code == 200, (role, name, response.status_code)
            if name == "dataio:import":
                assert b'enctype="multipart/form-data"' in response.content
        elif name == "dataio:import":
            assert b'enctype="multipart/form-data"' not in response.content, role
        else:
            assert response.status_code in (403, 404), (role, name, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_the_menu_offers_what_the_policy_allows(role, people, client):
    user = people[role]
    client.force_login(user)
    page = client.get(reverse("customers:list")).content.decode()
    for rule, name in ((lambda u: bool(policy.importable_kinds(u)), "dataio:import"),
                       (policy.may_export, "dataio:export"),
                       (policy.may_see_value_dashboard, "analytics:dashboard"),
                       (policy.may_read_audit_log, "audit:events")):
        assert (f'href="{reverse(name)}"' in page) == rule(user), (role, name)


@pytest.mark.parametrize("role", ROLES)
def test_assigning_an_owner_follows_the_policy_everywhere(role, people, customers):
    """The card's create service, its reassignment service and the import's owner column
    all ask may_assign_owner: a manager without a team may only take customers himself."""
    user = people[role]
    for owner in (people["sales1"], people["sales2"], people["lonely_manager"], user):
        allowed = policy.may_create_customers(user) and policy.may_assign_owner(user, owner)
        try:
            create_customer(user, {"name": f"由{role}创建"}, owner=owner)
        except NotPermitted:
            assert not allowed, (role, owner.username)
        else:
            assert allowed, (role, owner.username)
        assert (owner in policy.assignable_owners(user)) == policy.may_assign_owner(user,
                                                                                   owner)
    target = customers["east"]
    for owner in (people["sales1b"], people["sales2"]):
        try:
            change_owner(user, target, owner)
        except NotPermitted:
            pass
        else:
            assert policy.may_reassign_customers(user) and policy.may_assign_owner(user, owner)


def test_a_manager_without_a_team_manages_nobody(people):
    lonely = people["lonely_manager"]
    assert not policy.may_assign_owner(lonely, people["sales1"])
    assert not policy.may_assign_owner(lonely, User.objects.create_user(
        username="teamless", password="x-pass-123456", role=Role.SALES, team=None))
    assert policy.may_assign_owner(lonely, lonely)
    assert list(policy.assignable_owners(lonely)) == [lonely]
    assert not policy.may_run_quality_jobs(lonely)


def test_the_import_roles_cover_every_kind_of_file():
    from kehu.dataio.models import ImportKind

    assert set(policy.IMPORT_ROLES) == set(ImportKind.values)


def test_an_inactive_user_may_do_nothing(people):
    user = people["admin"]
    user.is_active = False
    for rule in (policy.may_create_customers, policy.may_export, policy.may_refresh_value,
                 policy.may_see_value_dashboard, policy.may_change_settings,
                 policy.may_read_audit_log, policy.may_run_quality_jobs, policy.may_merge):
        assert not rule(user), rule.__name__
    assert not policy.importable_kinds(user)
