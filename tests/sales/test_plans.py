"""Key-account plans: who may start and read one, the decision chain drawn from the
contacts, steps that are tasks on the workbench and back, the competitor sheet, version
checks, and the buying orientation suggested from hand-built purchase histories."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.customers.models import Product
from kehu.customers.services import create_contact, create_transaction
from kehu.sales.plans import keys, selectors
from kehu.sales.plans import services as plans
from kehu.sales.plans.orientation import Line, suggest_from
from kehu.tasks.models import Task, TaskStatus
from kehu.tasks.services import complete_task

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    """The page as a reader sees it: tags out, white space folded."""
    html = response.content.decode()
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def plan(users, customers):
    return plans.create_plan(users["manager1"], customers["east"],
                             {"objectives": "Be their first supplier"})


# Who may ---------------------------------------------------------------------------------

def test_a_salesperson_may_not_start_a_plan_for_a_customer_that_is_not_key(users, customers):
    with pytest.raises(NotPermitted, match="not a key account"):
        plans.create_plan(users["sales1"], customers["east"], {})


def test_a_salesperson_may_start_one_for_a_key_account_of_their_own(users, customers,
                                                                    monkeypatch):
    east = customers["east"]
    monkeypatch.setattr(keys, "_checks", [lambda qs, limit: {
        pk: "in the top 20%" for pk in qs.filter(pk=east.pk).values_list("pk", flat=True)}])
    plan = plans.create_plan(users["sales1"], east, {"situation": "Growing fast"})
    assert plan.owner == users["sales1"]
    # Not for a teammate's customer, key or not: a salesperson plans their own customers.
    with pytest.raises(NotPermitted):
        plans.create_plan(users["sales2"], east, {})


def test_the_value_scores_mark_the_most_valuable_customers_as_key(users, customers, children):
    from kehu.analytics.refresh import refresh_values

    create_transaction(users["admin"], customers["east"], date=dt.date(2024, 6, 1),
                       amount="90000.00", cost="30000.00")
    refresh_values(users["admin"])
    reasons = keys.key_reasons(type(customers["east"]).objects.all())
    assert "top 20%" in reasons[customers["east"].pk] and "rank 1" in reasons[
        customers["east"].pk], reasons
    assert not selectors.may_start_plan(users["sales2"], customers["north"]) or \
        customers["north"].pk in reasons
    assert selectors.may_start_plan(users["sales1"], customers["east"])


def test_one_plan_per_customer(users, customers, plan):
    with pytest.raises(ServiceError, match="already has an account plan"):
        plans.create_plan(users["admin"], customers["east"], {})


def test_plans_are_scoped_like_their_customers(client, users, customers, plan):
    client.force_login(users["sales2"])  # the other team
    assert client.get(reverse("sales:plan", args=[plan.pk])).status_code == 404
    page = client.get(reverse("sales:plans"))
    assert customers["east"].name not in page.content.decode()
    client.force_login(users["sales1"])  # the owner of the customer
    assert client.get(reverse("sales:plan", args=[plan.pk])).status_code == 200
    assert customers["east"].name in client.get(reverse("sales:plans")).content.decode()
    # Service staff see the plan but may not change it.
    client.force_login(users["service1"])
    assert client.get(reverse("sales:plan", args=[plan.pk])).status_code == 200
    assert client.get(reverse("sales:plan_edit", args=[plan.pk])).status_code == 404
    with pytest.raises(NotPermitted):
        plans.update_plan(users["service1"], plan, {"objectives": "x"}, expected_version=1)


def test_reading_a_plan_is_audited(client, users, customers, plan):
    from kehu.audit.models import AuditEvent

    client.force_login(users["sales1"])
    client.get(reverse("sales:plan", args=[plan.pk]))
    event = AuditEvent.objects.latest("pk")
    assert (event.action, event.customer_id, event.detail["part"], event.detail["plan"]) == (
        "customer.view", customers["east"].pk, "account_plan", plan.pk)


def test_a_stale_edit_is_refused_naming_who_changed_it(users, plan):
    plans.update_plan(users["manager1"], plan, {"objectives": "Grow 20%"}, expected_version=1)
    with pytest.raises(StaleVersion, match="manager1"):
        plans.update_plan(users["sales1"], plan, {"objectives": "Grow 30%"},
                          expected_version=1)
    plan.refresh_from_db()
    assert (plan.objectives, plan.version) == ("Grow 20%", 2)
    assert plan.history.count() == 2


# The decision chain ----------------------------------------------------------------------

def test_the_chart_shows_every_contact_in_its_role_with_attitude_and_relationship_apart(
        client, users, customers, plan):
    east, admin = customers["east"], users["admin"]
    people = [("总裁甲", "approver", "supports", "close"),
              ("采购乙", "decision_maker", "opposes", "good"),
              ("财务丙", "decision_maker", "neutral", "none"),
              ("人事丁", "evaluator", "supports", "none"),
              ("局长戊", "influencer", "", "acquainted"),
              ("前台己", "", "neutral", "")]
    for name, role, attitude, rel in people:
        create_contact(admin, east, {"name": name, "decision_role": role, "attitude": attitude,
                                     "our_relationship": rel})
    chain = selectors.decision_chain(users["sales1"], east)
    where = {p.contact.name: (tier.role, p.attitude, p.relationship)
             for tier in chain for p in tier.people}
    assert {n: where[n] for n, *_ in people} == {n: (r, a, rel) for n, r, a, rel in people}

    client.force_login(users["sales1"])
    html = client.get(reverse("sales:plan", args=[plan.pk])).content.decode()
    tiers = re.findall(r'<section class="chain-tier chain-(\w+)".*?</section>', html, re.S)
    assert tiers == ["approver", "decision_maker", "evaluator", "influencer", "none"]
    blocks = dict(re.findall(r'<section class="chain-tier chain-(\w+)"(.*?)</section>', html,
                             re.S))
    assert "采购乙" in blocks["decision_maker"] and "财务丙" in blocks["decision_maker"]
    assert "前台己" in blocks["none"] and "局长戊" in blocks["influencer"]
    # The attitude is a colour (class), a mark and a word; the relationship its own line.
    person = re.search(r'<li class="person att-opposes">(.*?)</li>', html, re.S).group(1)
    assert "采购乙" in person and "−" in person and "Opposes us" in person
    assert "Good relationship" in person and "●●○" in person
    unknown = re.search(r'<li class="person att-unknown">(.*?)</li>', html, re.S).group(1)
    assert "局长戊" in unknown and "Attitude not known" in unknown and "Acquainted" in unknown


def test_names_in_the_chart_are_data(client, users, customers, plan):
    create_contact(users["admin"], customers["east"], {
        "name": "<script>alert(1)</script>", "decision_role": "approver"})
    client.force_login(users["sales1"])
    html = client.get(reverse("sales:plan", args=[plan.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# The action plan -------------------------------------------------------------------------

def test_steps_become_tasks_on_the_workbench_and_back(client, users, customers, plan):
    manager, sales1 = users["manager1"], users["sales1"]
    step = plans.add_step(manager, plan, title="Visit the HR director", owner=sales1,
                          due_on=dt.date(2030, 3, 1))
    task = Task.objects.get(pk=step.task_id)
    assert (task.title, task.assignee, task.due_on, task.status, task.customer) == (
        "Visit the HR director", sales1, dt.date(2030, 3, 1), "open", customers["east"])
    client.force_login(sales1)
    assert "Visit the HR director" in _text(client.get(reverse("workbench:home")))

    # Editing the step moves its open task with it.
    step = plans.update_step(manager, step, title="Visit the HR VP", owner=sales1,
                             due_on=dt.date(2030, 4, 1), expected_version=1)
    task.refresh_from_db()
    assert (task.title, task.due_on) == ("Visit the HR VP", dt.date(2030, 4, 1))

    # Completing the task on the workbench shows on the plan.
    complete_task(sales1, task, note="Met, she wants a demo")
    page = _text(client.get(reverse("sales:plan", args=[plan.pk])))
    assert "1 of 1 done" in page and "Met, she wants a demo" in page

    # Deleting a step withdraws its open task.
    other = plans.add_step(manager, plan, title="Send the offer", owner=sales1,
                           due_on=dt.date(2030, 5, 1))
    plans.delete_step(manager, other)
    withdrawn = Task.objects.get(pk=other.task_id)
    assert withdrawn.status == TaskStatus.DISMISSED and "removed" in withdrawn.note


def test_a_step_marked_done_on_the_plan_completes_its_task(client, users, plan):
    step = plans.add_step(users["manager1"], plan, title="Call the CFO",
                          owner=users["sales1"], due_on=dt.date(2030, 1, 1))
    client.force_login(users["sales1"])
    response = client.post(reverse("sales:plan_step_done", args=[plan.pk, step.pk]))
    assert response.status_code == 302
    assert Task.objects.get(pk=step.task_id).status == TaskStatus.DONE


def test_a_step_goes_only_to_someone_who_may_see_the_customer(users, plan):
    with pytest.raises(NotPermitted):  # a salesperson gives tasks only to themselves
        plans.add_step(users["sales1"], plan, title="x", owner=users["sales1b"],
                       due_on=dt.date(2030, 1, 1))
    with pytest.raises(ServiceError, match="due date"):
        plans.add_step(users["sales1"], plan, title="x", owner=users["sales1"], due_on=None)


# The competitor sheet --------------------------------------------------------------------

def test_the_competitor_sheet_answers_six_questions_and_adds_new_competitors(
        client, users, plan):
    from kehu.sales.models import Competitor

    answers = {"who_they_are": "A wholesaler", "positioning": "Cheap, volume",
               "relationship_levers": "Rebates", "strengths": "Price",
               "weaknesses": "Slow service", "organisation": "Owner-run"}
    sheet = plans.add_competitor(users["sales1"], plan, new_name="  Starlight   Audio ",
                                 data=answers)
    assert Competitor.objects.get(name="Starlight Audio") == sheet.competitor
    with pytest.raises(ServiceError, match="already on this plan"):
        plans.add_competitor(users["sales1"], plan, new_name="starlight audio")
    client.force_login(users["sales1"])
    page = _text(client.get(reverse("sales:plan", args=[plan.pk])))
    for label, answer in zip(["Who they are", "Strategy and positioning",
                              "How they bind the customer", "Strengths", "Weak points",
                              "How they are organised"], answers.values(), strict=True):
        assert f"{label} {answer}" in page


# Buying orientation ----------------------------------------------------------------------

def _orders(*orders):
    """Lines of hand-built orders: each order is [(product, quantity, paid, list)]."""
    out = []
    for n, lines in enumerate(orders, start=1):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=100 * n)
        for product, qty, paid, listed in lines:
            out.append(Line(n, day, product, Decimal(qty), Decimal(paid), Decimal(listed)))
    return out


def test_deep_discounts_suggest_price_oriented():
    s = suggest_from(_orders(*[[(1, 10, "82.00", "100.00")]] * 12))
    assert s.orientation == "price"
    assert s.reason == "Bought at 18% below list on average across 12 orders → price-oriented."
    assert "price" in s.approach


def test_orders_combining_products_suggest_solution_oriented():
    bundle = [(1, 1, "100", "100"), (2, 1, "50", "52"), (3, 2, "20", "20")]
    s = suggest_from(_orders(bundle, bundle, [(1, 1, "100", "100")], bundle))
    assert s.orientation == "solution"
    assert s.reason.startswith("3 of 4 orders combined 3 or more different products")
    assert "solution" in s.approach


def test_steady_buying_near_list_across_the_range_suggests_strategy_oriented():
    s = suggest_from(_orders(*[[(p % 5 + 1, 2, "99", "100")] for p in range(8)]))
    assert s.orientation == "strategy"
    assert "near list price (1% from list on average) in 8 different quarters" in s.reason
    assert "partner" in s.approach


def test_too_few_orders_suggest_nothing():
    s = suggest_from(_orders([(1, 1, "50", "100")]))
    assert s.orientation == "" and "too few" in s.reason


def test_the_plan_suggests_the_orientation_from_the_customers_orders(client, users,
                                                                     customers, plan):
    product = Product.objects.create(code="P1", name="Box set", unit_price=Decimal("100"))
    for n in range(4):
        create_transaction(users["admin"], customers["east"], date=dt.date(2025, 1, 1 + n),
                           lines=[{"product": product.pk, "quantity": "5",
                                   "unit_price": "75.00"}])
    suggestion = selectors.suggested_orientation(users["sales1"], customers["east"])
    assert suggestion.orientation == "price"
    assert "25% below list" in suggestion.reason and "4 orders" in suggestion.reason
    client.force_login(users["sales1"])
    response = client.post(reverse("sales:plan_orientation", args=[plan.pk]),
                           {"buying_orientation": "price", "version": plan.version})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.buying_orientation == "price"
    page = _text(client.get(reverse("sales:plan", args=[plan.pk])))
    assert "Selling approach: Sell on price" in page


def test_erasing_the_customer_erases_the_plans_texts_and_their_history(users, customers,
                                                                       plan):
    from kehu.dataio.privacy.services import erase_customer
    from kehu.sales.plans.models import AccountPlan, PlanCompetitor, PlanStep

    admin = users["admin"]
    admin.privacy_officer = True
    admin.save(update_fields=["privacy_officer"])
    plans.update_plan(admin, plan, {"situation": "张三 runs it"}, expected_version=1)
    plans.add_competitor(admin, plan, new_name="Rival", data={"strengths": "张三's friend"})
    plans.add_step(admin, plan, title="Call 张三", owner=users["sales1"],
                   due_on=dt.date(2030, 1, 1))
    erase_customer(admin, customers["east"], reference="REQ-1")
    for model in (AccountPlan, PlanCompetitor, PlanStep):
        for row in [*model.objects.all(), *model.history.all()]:
            assert "张三" not in str(row.__dict__), (model, row.__dict__)
