"""The decision chain's old roles move to seed 001's four as customers migration 0010 says:
a supporter becomes an evaluator who supports us, a user an evaluator of unknown attitude,
and the other roles stay; the history rows follow, and the way back restores them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("customers", "0009_name_sort")]
AFTER = [("customers", "0010_decision_chain_roles")]


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


@pytest.mark.slow
@pytest.mark.postgresql_only
@pytest.mark.usefixtures("committed_db")
def test_old_roles_map_to_the_seeds_chain_and_back():
    apps = _migrate(BEFORE)
    User = apps.get_model("accounts", "User")
    Customer = apps.get_model("customers", "Customer")
    Contact = apps.get_model("customers", "Contact")
    History = apps.get_model("customers", "HistoricalContact")
    owner = User.objects.create(username="chain-owner")
    customer = Customer.objects.create(name="决策链客户", owner=owner, search_text="jcl")
    old = {"总裁": "approver", "采购总监": "decision_maker", "人力资源总监": "supporter",
           "社保局局长": "influencer", "用人部门经理": "user", "前台": ""}
    for name, role in old.items():
        contact = Contact.objects.create(customer=customer, name=name, decision_role=role)
        History.objects.create(id=contact.pk, customer_id=customer.pk, name=name,
                               decision_role=role, is_primary=False, version=1,
                               created_at=contact.created_at,
                               history_date=contact.created_at, history_type="+")

    apps = _migrate(AFTER)
    Contact = apps.get_model("customers", "Contact")
    now = {c.name: (c.decision_role, c.attitude, c.our_relationship)
           for c in Contact.objects.all()}
    assert now == {
        "总裁": ("approver", "", ""),
        "采购总监": ("decision_maker", "", ""),
        "人力资源总监": ("evaluator", "supports", ""),
        "社保局局长": ("influencer", "", ""),
        "用人部门经理": ("evaluator", "", ""),
        "前台": ("", "", ""),
    }
    history = {h.name: (h.decision_role, h.attitude)
               for h in apps.get_model("customers", "HistoricalContact").objects.all()}
    assert history["人力资源总监"] == ("evaluator", "supports")
    assert history["用人部门经理"] == ("evaluator", "")

    apps = _migrate(BEFORE)
    back = {c.name: c.decision_role for c in apps.get_model("customers", "Contact").objects.all()}
    assert back == old
    # Leave the database as the other tests expect it.
    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph
                                          .leaf_nodes())
