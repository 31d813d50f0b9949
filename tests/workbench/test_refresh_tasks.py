"""The value refresh gives owners work from the first refresh on: the playbook of each
lifecycle state and the treatments of segments, the most valuable customers first, at most
KEHU_TASKS_PER_REFRESH new tasks per owner per refresh, the rest counted on the workbench."""

from __future__ import annotations

from collections import defaultdict

import pytest
from django.test import Client, override_settings
from django.utils import translation

from kehu.analytics.models import CustomerValue
from kehu.analytics.refresh import refresh_values
from kehu.customers.services import set_lifecycle_state
from kehu.tasks.models import HeldBack, Playbook, Task, TaskStatus
from tests.analytics.test_refresh import AS_OF, _simulated

pytestmark = pytest.mark.django_db

CAP = 6


@pytest.fixture
def base(users):
    return _simulated(users, n=120)


def _refresh_tasks():
    return Task.objects.filter(origin__regex=r"^(segment|playbook):")


@override_settings(KEHU_TASKS_PER_REFRESH=CAP)
def test_the_first_refresh_gives_work_within_the_cap_and_a_second_adds_none(base, users):
    refresh_values(users["admin"], as_of=AS_OF)
    tasks = list(_refresh_tasks().select_related("customer"))
    by_owner = defaultdict(list)
    for task in tasks:
        by_owner[task.assignee.username].append(task)
    assert set(by_owner) == {"sales1", "sales2"}
    assert all(len(t) == CAP for t in by_owner.values())
    # The most valuable customers first: the owner's customers with a task are the top of
    # their book by value.
    for username, owned in by_owner.items():
        ranks = dict(CustomerValue.objects.filter(customer__owner__username=username)
                     .values_list("customer_id", "value_rank"))
        tasked = {t.customer_id for t in owned}
        best = sorted(ranks, key=ranks.get)[:len(tasked)]
        assert tasked == set(best), username
    # Each task says which rule and which figure.
    loyal = next((t for t in tasks if t.origin == "playbook:loyal"), None) or tasks[0]
    assert loyal.reason and "value refresh of" in loyal.reason
    # What was held back is counted per owner and rule.
    held = HeldBack.objects.filter(assignee=users["sales1"])
    assert held.exists() and sum(h.count for h in held) > 0
    assert all(h.list_query.startswith(f"owner={users['sales1'].pk}") for h in held)
    # Nothing changed: no new task, however often it runs.
    before = set(_refresh_tasks().values_list("pk", flat=True))
    refresh_values(users["admin"], as_of=AS_OF)
    assert set(_refresh_tasks().values_list("pk", flat=True)) == before


@override_settings(KEHU_TASKS_PER_REFRESH=CAP)
def test_the_workbench_says_what_was_held_back_with_a_link_to_the_list(base, users):
    refresh_values(users["admin"], as_of=AS_OF)
    client = Client()
    client.force_login(users["sales1"])
    body = client.get("/").content.decode()
    notes = [n for n in body.split('class="msg info wb-held-back"')[1:]]
    assert notes
    assert "more customers need" in notes[0] or "more customer needs" in notes[0]
    link = notes[0].split('href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert link.startswith(f"/customers/?owner={users['sales1'].pk}&")
    listed = client.get(link)
    assert listed.status_code == 200
    # And in Chinese, the treatments' titles too, though the refresh ran in English.
    client.cookies["django_language"] = "zh-hans"
    body = client.get("/").content.decode()
    assert "我的工作台" in body and "还有" in body
    segment_task = Task.objects.filter(origin__startswith="segment:").first()
    assert segment_task is not None and segment_task.title.isascii()
    with translation.override("zh-hans"):
        shown = segment_task.shown_title
    assert shown != segment_task.title and not shown.isascii()


@override_settings(KEHU_TASKS_PER_REFRESH=100)
def test_entering_a_state_opens_its_playbook_once(base, users):
    refresh_values(users["admin"], as_of=AS_OF)
    customer = base[0]
    customer.refresh_from_db()
    set_lifecycle_state(users["admin"], customer, "non_customer", reason="not our market")
    refresh_values(users["admin"], as_of=AS_OF)
    stop = Task.objects.get(customer=customer, origin="playbook:non_customer")
    assert stop.status == TaskStatus.OPEN and stop.assignee == customer.owner
    assert stop.shown_title == "Non-customer: stop contact"
    assert "Non-customer" in stop.reason
    refresh_values(users["admin"], as_of=AS_OF)
    assert Task.objects.filter(customer=customer, origin="playbook:non_customer").count() == 1


@override_settings(KEHU_TASKS_PER_REFRESH=100)
def test_an_admins_playbook_text_and_a_playbook_turned_off(base, users):
    Playbook.objects.filter(state="churned").update(create_task=False)
    Playbook.objects.filter(state="repeat").update(title="Ring them, offer 10% off")
    refresh_values(users["admin"], as_of=AS_OF)
    assert not Task.objects.filter(origin="playbook:churned").exists()
    repeat = Task.objects.filter(origin="playbook:repeat").first()
    assert repeat is not None and repeat.shown_title == "Ring them, offer 10% off"
    loyal = Task.objects.filter(origin="playbook:loyal").first()
    assert loyal.shown_title == "Loyal customer: VIP care and a referral request"
    assert loyal.kind == "visit"
    from django.utils import translation

    with translation.override("zh-hans"):
        assert loyal.shown_title == "忠诚客户：VIP 关怀，并请其推荐新客户"
        assert repeat.shown_title == "Ring them, offer 10% off"


def test_an_admin_sets_the_playbooks_in_the_admin_site(users):
    admin = users["admin"]
    admin.is_staff = admin.is_superuser = True  # as the demo's and createsuperuser's are
    admin.save()
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/tasks/playbook/")
    assert page.status_code == 200
    body = page.content.decode()
    for label in ("First purchase", "Repeat purchase", "Loyal", "Churned", "Non-customer"):
        assert label in body, label
    assert "call within 7 days" in body
    book = Playbook.objects.get(state="loyal")
    response = client.post(f"/admin/tasks/playbook/{book.pk}/change/", {
        "create_task": "on", "title": "Invite them to the VIP day", "detail": "",
        "kind": "meeting", "priority": "high", "due_in_days": "10"})
    assert response.status_code == 302
    book.refresh_from_db()
    assert (book.task_title, book.kind, book.due_in_days) == (
        "Invite them to the VIP day", "meeting", 10)
    assert client.get("/admin/tasks/playbook/add/").status_code == 403
