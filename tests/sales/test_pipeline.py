"""The pipeline as its users meet it: opportunities moved on the board (by drag through htmx,
and by plain forms without JavaScript), a concurrent move refused with a clear message, the
stale-opportunity task, scoping, stages, competitors and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.core.errors import ServiceError
from kehu.sales.models import Competitor
from kehu.sales.pipeline import services, stale
from kehu.sales.pipeline.models import Opportunity, Stage, StageChange
from kehu.sales.services import log_activity
from kehu.tasks.models import Task, TaskStatus

pytestmark = pytest.mark.django_db


def stage(name: str) -> Stage:
    return Stage.objects.get(name_en=name)


def make(user, customer, title="Deal", stage_name="Qualification", amount="10000.00",
         close=None, **kw) -> Opportunity:
    return services.create_opportunity(
        user, customer, title=title, stage=stage(stage_name), amount=Decimal(amount),
        expected_close=close or timezone.localdate() + dt.timedelta(days=30), **kw)


def test_the_default_stages_are_there_with_their_probabilities():
    assert [(s.name_en, s.name_zh, s.probability, s.kind) for s in Stage.objects.all()] == [
        ("Qualification", "初步接洽", 10, "open"), ("Needs analysis", "需求分析", 25, "open"),
        ("Proposal", "方案报价", 50, "open"), ("Negotiation", "商务谈判", 75, "open"),
        ("Won", "赢单", 100, "won"), ("Lost", "输单", 0, "lost")]


def test_a_drag_on_the_board_moves_the_card_and_answers_with_the_board(client, users,
                                                                       customers):
    opp = make(users["sales1"], customers["east"], title="Boiler retrofit")
    client.force_login(users["sales1"])
    response = client.post(reverse("sales:opportunity_move", args=[opp.pk]),
                           {"stage": stage("Proposal").pk, "version": opp.version},
                           HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert body.startswith('<div id="board"') and "Boiler retrofit" in body
    opp.refresh_from_db()
    assert opp.stage == stage("Proposal") and opp.version == 2
    # The column's totals count it: 1 opportunity, ¥10,000, weighted 50 % = ¥5,000.
    proposal = body.split(f'id="col-{stage("Proposal").pk}"')[1].split("</header>")[0]
    assert ">1<" in proposal and "10,000" in proposal and "5,000" in proposal
    change = StageChange.objects.filter(opportunity=opp).first()
    assert (change.from_stage, change.to_stage, change.by) == (
        stage("Qualification"), stage("Proposal"), users["sales1"])


def test_without_javascript_a_move_is_a_form_post_that_redirects_back(client, users,
                                                                      customers):
    opp = make(users["sales1"], customers["east"])
    client.force_login(users["sales1"])
    board = client.get(reverse("sales:pipeline"), {"owner": users["sales1"].pk})
    assert f'action="{reverse("sales:opportunity_move", args=[opp.pk])}' in \
        board.content.decode()
    response = client.post(
        reverse("sales:opportunity_move", args=[opp.pk]) + f"?owner={users['sales1'].pk}",
        {"stage": stage("Needs analysis").pk, "version": 1})
    assert response.status_code == 302
    assert response["Location"] == reverse("sales:pipeline") + f"?owner={users['sales1'].pk}"
    opp.refresh_from_db()
    assert opp.stage == stage("Needs analysis")
    page = client.get(response["Location"]).content.decode()
    assert "moved to Needs analysis" in page


def test_a_concurrent_move_is_refused_with_a_clear_message_and_loses_nothing(client, users,
                                                                            customers):
    opp = make(users["sales1"], customers["east"], title="Chiller")
    # Somebody else moved it after this board was drawn.
    services.move_opportunity(users["manager1"], opp, stage("Negotiation"),
                              expected_version=1)
    client.force_login(users["sales1"])
    response = client.post(reverse("sales:opportunity_move", args=[opp.pk]),
                           {"stage": stage("Proposal").pk, "version": 1},
                           HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and 'id="board-error"' in body
    assert "changed by manager1" in body and "Negotiation" in body
    opp.refresh_from_db()
    assert opp.stage == stage("Negotiation") and opp.version == 2
    # The board it answers with shows the card where it now is, with the new version.
    negotiation = body.split(f'id="col-{stage("Negotiation").pk}"')[1].split("</section>")[0]
    assert "Chiller" in negotiation and 'data-version="2"' in negotiation
    # Without JavaScript: the same message after the redirect.
    response = client.post(reverse("sales:opportunity_move", args=[opp.pk]),
                           {"stage": stage("Proposal").pk, "version": 1}, follow=True)
    assert "changed by manager1" in response.content.decode()


def test_an_edit_from_a_stale_form_is_refused_and_keeps_the_input(client, users, customers):
    opp = make(users["sales1"], customers["east"], title="Pumps")
    services.update_opportunity(users["manager1"], opp, {"amount": Decimal("500")},
                                expected_version=1)
    client.force_login(users["sales1"])
    response = client.post(reverse("sales:opportunity", args=[opp.pk]), {
        "title": "Pumps and valves", "stage": opp.stage_id, "amount": "900",
        "expected_close": opp.expected_close.isoformat(), "owner": users["sales1"].pk,
        "version": 1})
    assert response.status_code == 409
    body = response.content.decode()
    assert "changed by manager1" in body and 'value="Pumps and valves"' in body
    opp.refresh_from_db()
    assert opp.title == "Pumps" and opp.amount == Decimal("500.00")
    # The form now carries the current version: saving it again is a deliberate overwrite.
    assert 'name="version" value="2"' in body
    form = {"title": "Pumps and valves", "stage": opp.stage_id, "amount": "900",
            "expected_close": opp.expected_close.isoformat(), "owner": users["sales1"].pk,
            "version": 2}
    assert client.post(reverse("sales:opportunity", args=[opp.pk]), form).status_code == 302
    opp.refresh_from_db()
    assert opp.title == "Pumps and valves" and opp.amount == Decimal("900.00")


def test_losing_needs_a_reason(users, customers):
    opp = make(users["sales1"], customers["east"])
    with pytest.raises(ServiceError, match="why"):
        services.move_opportunity(users["sales1"], opp, stage("Lost"), expected_version=1)
    lost = services.move_opportunity(users["sales1"], opp, stage("Lost"), expected_version=1,
                                     lost_reason="price")
    assert lost.closed_on == timezone.localdate() and lost.lost_reason == "price"
    reopened = services.move_opportunity(users["sales1"], lost, stage("Proposal"),
                                         expected_version=2)
    assert reopened.closed_on is None and reopened.lost_reason == ""


def test_a_drag_to_lost_asks_for_the_reason(client, users, customers):
    opp = make(users["sales1"], customers["east"])
    client.force_login(users["sales1"])
    response = client.post(reverse("sales:opportunity_move", args=[opp.pk]),
                           {"stage": stage("Lost").pk, "version": 1}, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == reverse("sales:opportunity", args=[opp.pk]) + \
        f"?stage={stage('Lost').pk}"
    opp.refresh_from_db()
    assert opp.stage == stage("Qualification")


def test_a_stale_opportunity_gives_its_owner_a_task_each(users, customers):
    east = customers["east"]
    a = make(users["sales1"], east, title="Old A")
    b = make(users["sales1"], east, title="Old B")
    fresh = make(users["sales1"], east, title="Fresh")
    long_ago = timezone.now() - dt.timedelta(days=30)
    Opportunity.objects.filter(pk__in=[a.pk, b.pk]).update(touched_at=long_ago)
    Opportunity.objects.filter(pk=fresh.pk).update(touched_at=timezone.now())
    assert stale.run(timezone.localdate()) == 2
    tasks = Task.objects.filter(origin__startswith="opportunity_stale:", status="open")
    assert {t.origin for t in tasks} == {f"opportunity_stale:{a.pk}",
                                         f"opportunity_stale:{b.pk}"}
    assert {t.assignee for t in tasks} == {users["sales1"]}
    assert {t.shown_title for t in tasks} == {"Follow up a stale opportunity"}
    assert any("Old A" in t.reason for t in tasks)
    assert stale.run(timezone.localdate()) == 0  # one open task per opportunity
    # Touching A (a move) closes its task; B's stays.
    services.move_opportunity(users["sales1"], a, stage("Proposal"), expected_version=1)
    assert set(Task.objects.filter(origin__startswith="opportunity_stale:", status="open")
               .values_list("origin", flat=True)) == {f"opportunity_stale:{b.pk}"}
    # An activity on the customer touches B too.
    log_activity(users["sales1"], east, kind="call", subject="Called about the boiler")
    assert not Task.objects.filter(origin__startswith="opportunity_stale:",
                                   status=TaskStatus.OPEN).exists()
    assert stale.run(timezone.localdate()) == 0


def test_closing_a_stale_opportunity_ends_its_task_at_the_next_sweep(users, customers):
    opp = make(users["sales1"], customers["east"])
    Opportunity.objects.filter(pk=opp.pk).update(touched_at=timezone.now() -
                                                  dt.timedelta(days=40))
    stale.run(timezone.localdate())
    Opportunity.objects.filter(pk=opp.pk).update(stage=stage("Won"))
    stale.run(timezone.localdate())
    assert Task.objects.get(origin=f"opportunity_stale:{opp.pk}").status == TaskStatus.DONE


@pytest.mark.parametrize("role", ["sales2", "manager2", "sales1b"])
def test_another_scope_s_opportunity_is_404_in_the_ui_and_the_api(role, client, api, users,
                                                                  customers):
    opp = make(users["sales1"], customers["east"], title="Secret deal")
    client.force_login(users[role])
    for name in ("sales:opportunity", "sales:opportunity_delete"):
        assert client.get(reverse(name, args=[opp.pk])).status_code == 404
    assert client.post(reverse("sales:opportunity_move", args=[opp.pk]),
                       {"stage": stage("Won").pk, "version": 1}).status_code == 404
    assert "Secret deal" not in client.get(reverse("sales:pipeline")).content.decode()
    assert "Secret deal" not in client.get(reverse("sales:opportunities")).content.decode()
    c = api(role)
    assert c.get(f"/opportunities/{opp.pk}").status_code == 404
    assert c.patch(f"/opportunities/{opp.pk}", {"version": 1, "title": "x"}).status_code == 404
    assert c.get("/opportunities").json()["count"] == 0
    opp.refresh_from_db()
    assert opp.title == "Secret deal" and opp.version == 1


def test_the_api_creates_reads_updates_and_refuses_a_stale_version(api, users, customers):
    c = api("sales1")
    rival = Competitor.objects.create(name="Rival Co")
    made = c.post("/opportunities", {"customer": customers["east"].pk, "title": "Heat pumps",
                                     "amount": "20000.00", "expected_close": "2027-01-15",
                                     "competitors": [rival.pk]})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["probability"] == 10 and body["weighted_amount"] == "2000.00"
    assert body["owner"] == users["sales1"].pk and body["competitors"] == [rival.pk]
    oid = body["id"]
    moved = c.patch(f"/opportunities/{oid}", {"version": 1, "stage": stage("Proposal").pk})
    assert moved.status_code == 200 and moved.json()["version"] == 2
    stale_write = c.patch(f"/opportunities/{oid}", {"version": 1, "amount": "1.00"})
    assert stale_write.status_code == 409 and stale_write.json()["changed_by"]
    lost = c.patch(f"/opportunities/{oid}", {"version": 2, "stage": stage("Lost").pk})
    assert lost.status_code == 400 and lost.json()["field"] == "lost_reason"
    listed = c.get("/opportunities", close_month="2027-01", status="open").json()
    assert [o["id"] for o in listed["items"]] == [oid]
    assert c.get("/opportunities", close_month="2027-13").status_code == 422
    # Year 0 is refused as the pattern says; the last month there is still has an end.
    assert c.get("/opportunities", close_month="0000-01").status_code == 422
    assert c.get("/opportunities", close_month="9999-12").json()["items"] == []
    stages = c.get("/opportunity-stages").json()["stages"]
    assert [s["probability"] for s in stages] == [10, 25, 50, 75, 100, 0]


def test_a_stage_in_use_cannot_be_removed_without_moving_its_opportunities(users, customers):
    opp = make(users["sales1"], customers["east"], stage_name="Needs analysis")
    with pytest.raises(ServiceError, match="1 opportunities are in the stage"):
        services.delete_stage(users["admin"], stage("Needs analysis"))
    with pytest.raises(ServiceError, match="open stage"):
        services.delete_stage(users["admin"], stage("Needs analysis"), move_to=stage("Won"))
    assert services.delete_stage(users["admin"], stage("Needs analysis"),
                                 move_to=stage("Proposal")) == 1
    opp.refresh_from_db()
    assert opp.stage == stage("Proposal") and opp.version == 2
    with pytest.raises(ServiceError):
        services.delete_stage(users["admin"], stage("Won"))


def test_only_admins_configure_stages(client, users):
    client.force_login(users["manager1"])
    assert client.get(reverse("sales:stages")).status_code == 403
    client.force_login(users["admin"])
    response = client.post(reverse("sales:stages"), {
        "new-name_en": "Site survey", "new-name_zh": "现场勘察", "new-order": "25",
        "new-probability": "30"})
    assert response.status_code == 302
    assert Stage.objects.get(name_en="Site survey").probability == 30
    response = client.post(reverse("sales:stages"), {"stale_after_days": "10"})
    assert response.status_code == 302
    from kehu.sales.pipeline.models import PipelineSettings
    assert PipelineSettings.current().stale_after_days == 10


def test_managers_keep_the_list_of_competitors(client, users):
    client.force_login(users["sales1"])
    assert client.post(reverse("sales:competitors"), {"name": "X"}).status_code == 403
    client.force_login(users["manager1"])
    client.post(reverse("sales:competitors"), {"name": "Acme HVAC", "website": "acme.example"})
    acme = Competitor.objects.get(name="Acme HVAC")
    assert acme.website == "https://acme.example"
    response = client.post(reverse("sales:competitors"), {"name": "acme hvac"})
    assert response.status_code == 400 and "already a competitor" in response.content.decode()


def test_the_card_lists_the_customer_s_opportunities(client, users, customers):
    make(users["sales1"], customers["east"], title="Cooling tower")
    client.force_login(users["sales1"])
    body = client.get(reverse("customers:card", args=[customers["east"].pk]),
                      {"tab": "opportunities"}).content.decode()
    assert "Cooling tower" in body and "10,000" in body


def test_the_board_and_list_filter_by_owner_team_stage_and_close_month(client, users,
                                                                       customers):
    make(users["sales1"], customers["east"], title="Jan deal", close=dt.date(2027, 1, 5))
    make(users["sales1b"], customers["east_b"], title="Feb deal", close=dt.date(2027, 2, 5),
         stage_name="Proposal")
    make(users["sales2"], customers["north"], title="North deal", close=dt.date(2027, 1, 9))
    client.force_login(users["admin"])

    def titles(**query):
        body = client.get(reverse("sales:opportunities"), query).content.decode()
        return {t for t in ("Jan deal", "Feb deal", "North deal") if t in body}

    assert titles() == {"Jan deal", "Feb deal", "North deal"}
    assert titles(owner=users["sales1b"].pk) == {"Feb deal"}
    assert titles(team=users["sales2"].team_id) == {"North deal"}
    assert titles(stage=stage("Proposal").pk) == {"Feb deal"}
    assert titles(close_month="2027-01") == {"Jan deal", "North deal"}
    for month in ("2027-13", "0000-01"):
        body = client.get(reverse("sales:pipeline"), {"close_month": month}).content.decode()
        assert "YYYY-MM" in body
    assert titles(close_month="9999-12") == set()


def test_the_board_marks_a_stale_opportunity_as_stalled_not_expired_in_chinese(client, users,
                                                                                customers):
    """过期 is the card's word for stale data; an untouched opportunity has stalled (停滞)."""
    opp = make(users["sales1"], customers["east"], title="Forgotten boiler",
               close=timezone.localdate() + dt.timedelta(days=60))
    Opportunity.objects.filter(pk=opp.pk).update(touched_at=timezone.now() -
                                                  dt.timedelta(days=400))
    client.force_login(users["sales1"])
    client.cookies["django_language"] = "zh-hans"
    board = client.get(reverse("sales:pipeline")).content.decode()
    card = board[board.index(f'id="opp-{opp.pk}"'):]
    card = card[:card.index("</li>")]
    assert "停滞" in card and "过期" not in card
