"""/api/v1/account-plans: list with filters and cursor, create, read with the decision
chain, competitor sheet, steps and the suggested orientation, update with a version check;
scoped like customers and audited."""

from __future__ import annotations

import pytest

from kehu.audit.models import AuditEvent
from kehu.customers.services import create_contact

pytestmark = pytest.mark.django_db


def test_create_read_update_and_list(api, users, customers):
    east = customers["east"]
    create_contact(users["admin"], east, {"name": "王总", "decision_role": "approver",
                                          "attitude": "supports", "our_relationship": "good"})
    made = api("manager1").post("/account-plans", {
        "customer": east.pk, "situation": "Two new plants", "relationship_level": "interest",
        "review_on": "2030-01-01"})
    assert made.status_code == 201, made.content
    plan = made.json()
    assert (plan["customer"], plan["owner_username"], plan["relationship_level"]) == (
        east.pk, "sales1", "interest")
    assert plan["decision_chain"] == [{
        "contact": east.contacts.get().pk, "name": "王总", "title": "", "role": "approver",
        "attitude": "supports", "our_relationship": "good"}]
    assert plan["competitors"] == [] and plan["steps"] == []
    assert set(plan["suggested_orientation"]) == {"orientation", "reason", "selling_approach"}

    again = api("sales1").get(f"/account-plans/{plan['id']}")
    assert again.status_code == 200 and again.json()["situation"] == "Two new plants"
    event = AuditEvent.objects.latest("pk")
    assert (event.action, event.customer_id, event.detail["part"]) == (
        "customer.view", east.pk, "account_plan")

    changed = api("sales1").patch(f"/account-plans/{plan['id']}", {
        "version": 1, "buying_orientation": "solution"})
    assert changed.status_code == 200, changed.content
    assert changed.json()["version"] == 2
    assert changed.json()["selling_approach"].startswith("Sell a solution")
    stale = api("manager1").patch(f"/account-plans/{plan['id']}", {
        "version": 1, "objectives": "x"})
    assert stale.status_code == 409

    listed = api("manager1").get("/account-plans", relationship_level="interest")
    assert [p["id"] for p in listed.json()["items"]] == [plan["id"]]
    assert api("manager1").get("/account-plans", buying_orientation="price").json()[
        "items"] == []
    event = AuditEvent.objects.latest("pk")
    assert event.detail["list"] == "account_plans" and event.detail["customers"] == []


def test_plans_are_out_of_reach_like_their_customers(api, users, customers, plan_records):
    east_plan = plan_records["east"]["account_plan"]
    assert api("sales2").get(f"/account-plans/{east_plan.pk}").status_code == 404
    ids = [p["id"] for p in api("sales2").get("/account-plans").json()["items"]]
    assert ids == [plan_records["north"]["account_plan"].pk]
    # A salesperson may not start a plan for a customer the value scores do not mark key.
    refused = api("sales1").post("/account-plans", {"customer": customers["east"].pk})
    assert refused.status_code in (403, 422)


def test_the_list_pages_with_a_cursor(api, users, plan_records):
    first = api("admin").get("/account-plans", limit=2).json()
    assert len(first["items"]) == 2 and first["next_cursor"] and first["count"] == 3
    rest = api("admin").get("/account-plans", limit=2, cursor=first["next_cursor"]).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert api("admin").get("/account-plans", colour="red").status_code == 422


def test_the_contacts_api_takes_role_attitude_and_relationship_apart(api, customers):
    east = customers["east"]
    made = api("sales1").post(f"/customers/{east.pk}/contacts", {
        "name": "钱总监", "decision_role": "evaluator", "attitude": "opposes",
        "our_relationship": "close"})
    assert made.status_code == 201, made.content
    assert {k: made.json()[k] for k in ("decision_role", "attitude", "our_relationship")} == {
        "decision_role": "evaluator", "attitude": "opposes", "our_relationship": "close"}
    refused = api("sales1").post(f"/customers/{east.pk}/contacts", {
        "name": "孙经理", "decision_role": "supporter"})
    assert refused.status_code == 422
