"""Owner continuity and the service–profit chain: the changes counted from owner periods,
the figures by band, the flag and its task for a key customer whose owner changed twice in a
year, the settings of the silent-dissatisfied factor, and the pages' scope and audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kehu.analytics.models import CustomerValue, ValueRefresh
from kehu.audit.models import AuditEvent
from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.customers.models import LifecycleState, OwnerAssignment
from kehu.customers.services import change_owner
from kehu.service.chain import figures, selectors, services
from kehu.service.chain.models import ChainSettings
from kehu.tasks.models import Task

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)


def _at(days_ago: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days_ago)


# The arithmetic -----------------------------------------------------------------------------

def test_a_change_is_a_new_owner_after_the_start_of_the_window():
    since = _at(730)
    assert figures.owner_changes([(_at(900), 1)], since) == 0  # the first owner is no change
    assert figures.owner_changes([(_at(100), 1)], since) == 0  # even if recent
    assert figures.owner_changes([(_at(900), 1), (_at(800), 2)], since) == 0  # before
    assert figures.owner_changes([(_at(900), 1), (_at(300), 2), (_at(30), 1)], since) == 2
    assert figures.owner_changes([(_at(30), 1), (_at(900), 1), (_at(300), 2)], since) == 2
    # Handing a customer to the owner they already had changes nobody.
    assert figures.owner_changes([(_at(900), 1), (_at(300), 1)], since) == 0


def test_the_service_contact_changes_when_the_next_ticket_has_another_handler():
    since = _at(730)
    tickets = [(_at(400), 7), (_at(300), 7), (_at(200), None), (_at(100), 8), (_at(50), 7)]
    assert figures.contact_changes(tickets, since) == 2
    assert figures.contact_changes([(_at(800), 7), (_at(700), 8)], since) == 1
    assert figures.contact_changes([], since) == 0


def _facts(pk, owner, service=0, tenure=100, bought=True, retained=True, satisfied=None,
           value=None, clv=None):
    return figures.Facts(pk, owner, service, tenure, bought, retained, satisfied, value, clv)


def test_the_bands_set_retention_satisfaction_and_value_side_by_side():
    facts = [_facts(1, 0, satisfied=True, value=100.0, clv=500.0, tenure=800),
             _facts(2, 0, satisfied=False, value=50.0, tenure=400),
             _facts(3, 0, bought=False, retained=False),  # a prospect: not asked to stay
             _facts(4, 1, retained=False, tenure=200),
             _facts(5, 1, 1, retained=False, satisfied=False, value=-20.0, tenure=10),
             _facts(6, 0, 3, satisfied=True, tenure=10)]
    stable, once, often = figures.by_continuity(facts)
    assert (stable.customers, stable.buyers, stable.retention) == (3, 2, 100.0)
    assert (stable.satisfaction, stable.average_value, stable.average_clv) == (50.0, 75.0, 500.0)
    assert (once.customers, once.retention, once.satisfaction) == (1, 0.0, None)
    assert (often.customers, often.retention, often.satisfaction) == (2, 50.0, 50.0)
    assert (often.owner_changes, often.service_changes) == (1, 4)
    tenure = {b.key: b for b in figures.by_tenure(facts)}
    assert [tenure[k].customers for k in ("under_6m", "6_12m", "1_2y", "over_2y")] == [3, 1, 1, 1]


# The figures of a user's scope --------------------------------------------------------------

def _history(customer, owners_and_days):
    """Replace the customer's owner periods: (owner, days ago it started), oldest first;
    the last stays open and is the customer's owner."""
    OwnerAssignment.objects.filter(customer=customer).delete()
    starts = [_at(days) for _owner, days in owners_and_days]
    for i, (owner, _days) in enumerate(owners_and_days):
        OwnerAssignment.objects.create(customer=customer, owner=owner, started_at=starts[i],
                                       ended_at=starts[i + 1] if i + 1 < len(starts) else None)


def _set(customer, state):
    type(customer).objects.filter(pk=customer.pk).update(lifecycle_state=state)


def test_the_chain_adds_up_the_users_own_scope(users, customers):
    east, east_b, north = customers["east"], customers["east_b"], customers["north"]
    _history(east, [(users["sales1"], 900)])
    _history(east_b, [(users["sales1"], 600), (users["manager1"], 300), (users["sales1b"], 20)])
    _set(east, LifecycleState.LOYAL)
    _set(east_b, LifecycleState.CHURNED)
    _set(north, LifecycleState.REPEAT_PURCHASE)
    result = selectors.chain_figures(users["manager1"], now=NOW)
    assert result.customers == 2  # North's customer is another team's
    stable, often = result.band("stable"), result.band("often")
    assert (stable.customers, stable.retention) == (1, 100.0)
    assert (often.customers, often.retention, often.owner_changes) == (1, 0.0, 2)
    assert result.band("over_2y").customers == 1 and result.band("under_6m").customers == 1
    assert selectors.chain_figures(users["admin"], now=NOW).customers == 3


# The flag -----------------------------------------------------------------------------------

def _key(customer, percentile=95.0):
    run = ValueRefresh.objects.first() or ValueRefresh.objects.create(
        as_of=timezone.localdate(), status="done")
    CustomerValue.objects.update_or_create(customer=customer, defaults={
        "refresh": run, "value_percentile": percentile, "value_rank": 1,
        "net_contribution_12m": Decimal("900")})


def test_a_key_customer_whose_owner_changed_twice_in_a_year_is_flagged(users, customers):
    east, east_b = customers["east"], customers["east_b"]
    _key(east)
    _key(east_b, percentile=10.0)  # not a key customer: never flagged
    for c in (east, east_b):
        _history(c, [(users["sales1"], 500), (users["manager1"], 200), (users["sales1"], 30)])
    flags = selectors.continuity_flags(users["manager1"], now=NOW)
    assert [(f.customer, f.changes) for f in flags] == [(east, 2)]
    assert [p.owner for p in flags[0].periods] == [users["sales1"], users["manager1"],
                                                   users["sales1"]]
    assert selectors.continuity_flags(users["manager2"], now=NOW) == []  # out of scope
    # Two changes, but more than a year apart: no flag.
    _history(east, [(users["sales1"], 900), (users["manager1"], 400), (users["sales1"], 30)])
    assert selectors.continuity_flags(users["manager1"], now=NOW) == []


def test_the_second_change_of_a_key_customers_owner_opens_the_owners_task(users, customers,
                                                                         client):
    east = customers["east"]
    _key(east)
    manager = users["manager1"]
    east = change_owner(manager, east, users["sales1b"], reason="holiday cover")
    assert not Task.objects.filter(origin=services.CONTINUITY_ORIGIN).exists()
    east = change_owner(manager, east, users["sales1"], reason="back from holiday")
    task = Task.objects.get(origin=services.CONTINUITY_ORIGIN)
    assert task.customer == east and task.assignee == users["sales1"]
    assert "2" in task.reason
    # The card shows the flag, with the owners in order.
    client.force_login(manager)
    body = client.get(reverse("customers:card", args=[east.pk])).content.decode()
    assert 'id="owner-continuity"' in body and "the owner changed 2 times" in body
    # A third change opens no second task while the first is open.
    change_owner(manager, east, users["sales1b"])
    assert Task.objects.filter(origin=services.CONTINUITY_ORIGIN).count() == 1


def test_the_catch_up_gives_tasks_only_in_the_managers_scope(users, customers):
    east, north = customers["east"], customers["north"]
    for c, people in ((east, ("sales1", "manager1")), (north, ("sales2", "manager2"))):
        _key(c)
        _history(c, [(users[people[0]], 300), (users[people[1]], 200), (users[people[0]], 10)])
    assert services.open_continuity_tasks(users["manager1"], via="web") == 1
    assert list(Task.objects.values_list("customer", "assignee")) == [
        (east.pk, users["sales1"].pk)]
    with pytest.raises(NotPermitted):
        services.open_continuity_tasks(users["sales1"])
    # `kehu service sweep` runs the catch-up over everyone's customers, once.
    out = StringIO()
    call_command("service", "sweep", "--only", "owner_continuity", "--today",
                 NOW.isoformat(), stdout=out)
    assert "Key customers with a changing owner: 1" in out.getvalue()
    assert set(Task.objects.values_list("customer", flat=True)) == {east.pk, north.pk}
    call_command("service", "sweep", "--only", "owner_continuity", stdout=out)
    assert Task.objects.count() == 2


# Settings -----------------------------------------------------------------------------------

def test_only_an_admin_sets_the_factor_and_a_stale_form_is_refused(users):
    assert ChainSettings.current().silent_factor == 20  # seed 000
    with pytest.raises(NotPermitted):
        services.update_chain_settings(users["manager1"], silent_factor=10)
    saved = services.update_chain_settings(users["admin"], silent_factor=25, version=1)
    assert (saved.silent_factor, saved.version) == (25, 2)
    with pytest.raises(StaleVersion, match="changed by"):
        services.update_chain_settings(users["admin"], silent_factor=30, version=1)
    with pytest.raises(ServiceError, match="between 1 and 1000"):
        services.update_chain_settings(users["admin"], silent_factor=0, version=2)
    assert ChainSettings.current().silent_factor == 25


def test_the_settings_page_says_what_is_wrong_with_a_bad_factor(users, client):
    client.force_login(users["admin"])
    url = reverse("service:chain_settings")
    response = client.post(url, {"silent_factor": "lots", "version": 1})
    assert response.status_code == 400
    assert "Enter a whole number between 1 and 1000." in response.content.decode()
    response = client.post(url, {"silent_factor": "12", "version": 1})
    assert response.status_code == 302 and ChainSettings.current().silent_factor == 12
    # A form opened before that save keeps its input and names who saved.
    response = client.post(url, {"silent_factor": "14", "version": 1})
    assert response.status_code == 409 and "14" in response.content.decode()
    assert ChainSettings.current().silent_factor == 12
    client.force_login(users["manager1"])
    assert client.post(url, {"silent_factor": "3", "version": 2}).status_code == 403
    assert "12" in client.get(url).content.decode()


# Pages --------------------------------------------------------------------------------------

def test_the_chain_pages_are_for_managers_analysts_and_admins(users, client):
    for role, allowed in (("manager1", True), ("analyst1", True), ("admin", True),
                          ("sales1", False), ("service1", False), ("marketing1", False)):
        client.force_login(users[role])
        for name in ("service:chain", "service:chain_flags", "service:chain_settings"):
            assert client.get(reverse(name)).status_code == (200 if allowed else 403), (role,
                                                                                         name)


def test_the_flag_list_is_audited_and_names_its_customers(users, customers, client):
    east = customers["east"]
    _key(east)
    _history(east, [(users["sales1"], 300), (users["manager1"], 200), (users["sales1"], 10)])
    client.force_login(users["manager1"])
    body = client.get(reverse("service:chain_flags")).content.decode()
    assert east.name in body
    event = AuditEvent.objects.latest("pk")
    assert event.action == "customer.list" and event.detail["customers"] == [east.pk]
    assert event.detail["list"] == "service.continuity_flags"
    response = client.post(reverse("service:chain_flag_tasks"), follow=True)
    assert "1 owners were given a task." in response.content.decode()
    assert Task.objects.get(origin=services.CONTINUITY_ORIGIN).assignee == users["sales1"]


def test_the_chain_page_in_both_languages(users, customers, client):
    _history(customers["east"], [(users["sales1"], 900)])
    _set(customers["east"], LifecycleState.LOYAL)
    client.force_login(users["manager1"])
    body = client.get(reverse("service:chain")).content.decode()
    assert "Service–profit chain" in body and "30.8%" in body and 'id="chain-tenure"' in body
    client.cookies["django_language"] = "zh-hans"
    body = client.get(reverse("service:chain")).content.decode()
    assert "服务利润链" in body and "负责人" in body


# Tickets: the service contact and the dashboard -----------------------------------------------

def _ticket(user, customer, *, kind="enquiry", assignee=None, days_ago=10, **kwargs):
    from kehu.service.tickets.services import open_ticket

    return open_ticket(user, customer, subject=f"{kind} {days_ago}", kind=kind,
                       assignee=assignee, at=timezone.now() - dt.timedelta(days=days_ago),
                       **kwargs)


def test_a_new_person_on_the_next_ticket_is_a_change_of_service_contact(users, customers):
    east = customers["east"]
    _history(east, [(users["sales1"], 900)])
    manager = users["manager1"]
    for days, who in ((300, "service1"), (200, "service1"), (100, "manager1"), (50, None)):
        _ticket(manager, east, assignee=users[who] if who else None, days_ago=days)
    facts = {f.customer_id: f for f in selectors.customer_facts(manager)}
    assert (facts[east.pk].owner_changes, facts[east.pk].service_changes) == (0, 1)
    assert selectors.chain_figures(manager).band("once").service_changes == 1


def test_the_dashboard_counts_complaints_and_the_silent_dissatisfied_they_stand_for(
        users, customers, client):
    from kehu.service.tickets.services import change_status

    manager = users["manager1"]
    east, north = customers["east"], customers["north"]
    _ticket(manager, east, kind="complaint", days_ago=3)
    _ticket(manager, east, kind="complaint", days_ago=40)
    done = _ticket(manager, east, assignee=users["service1"], days_ago=5)
    change_status(manager, done, "resolved")
    _ticket(users["admin"], north, kind="complaint", days_ago=2)  # another team's
    d = selectors.service_dashboard(manager)
    assert (d.open_tickets, d.open_complaints, d.unassigned) == (2, 2, 2)
    assert (d.complaints_30d, d.complaints_12m, d.factor, d.silent_30d, d.silent_12m) == (
        1, 2, 20, 20, 40)
    assert (d.resolved_90d, d.first_contact_rate) == (1, 100.0)
    assert sum(m.complaints for m in d.months) == 2 and len(d.months) == 12
    services.update_chain_settings(users["admin"], silent_factor=25)
    client.force_login(manager)
    body = client.get(reverse("service:dashboard")).content.decode()
    assert 'id="silent"' in body and "× 25" in body
    assert selectors.service_dashboard(users["admin"]).complaints_30d == 2
    client.force_login(users["sales1"])
    assert client.get(reverse("service:dashboard")).status_code == 403


def test_the_chain_reads_the_latest_satisfaction_answer_and_the_dashboard_its_trend(users,
                                                                                  customers):
    from kehu.service.surveys.models import Measure
    from kehu.service.surveys.services import send_survey, submit_answers
    from tests.service.surveys_factory import answers_for, make_survey

    admin, manager = users["admin"], users["manager1"]
    survey = make_survey(admin)
    east, east_b = customers["east"], customers["east_b"]
    _history(east, [(users["sales1"], 900)])
    _history(east_b, [(users["sales1"], 600), (users["manager1"], 300), (users["sales1b"], 20)])
    today = timezone.localdate()
    base = timezone.make_aware(dt.datetime(today.year, today.month, 15, 12))

    def answer(customer, csat, nps, days_ago):
        at = base - dt.timedelta(days=days_ago)
        sent = send_survey(admin, survey, customer, email=False, now=at)
        submit_answers(sent.invitation, answers_for(survey, **{Measure.CSAT: csat,
                                                                Measure.NPS: nps}), now=at)

    answer(east, 2, 3, 60)  # unhappy once…
    answer(east, 5, 10, 5)  # …satisfied now: the latest answer counts
    answer(east_b, 2, 4, 3)
    chain = selectors.chain_figures(manager, now=base)
    assert chain.answered == 2
    assert chain.band("stable").satisfaction == 100.0
    assert chain.band("often").satisfaction == 0.0
    d = selectors.service_dashboard(manager, now=base)
    assert d.has_surveys
    assert (d.months[-1].csat, d.months[-1].nps) == (50.0, 0.0)  # one of two; 1 − 1 of 2
    assert (d.months[-3].csat, d.months[-3].nps) == (0.0, -100.0)
    assert d.months[-2].csat is None
