"""Leads: the MAN naming (all eight and a property test), the service's actions and tasks,
the pages, scoping, the score, and the funnel summed by hand."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from kehu.customers.models import LifecycleState
from kehu.customers.services import create_customer, create_transaction
from kehu.sales.leads import man, selectors, services
from kehu.sales.leads.models import Lead
from kehu.tasks.models import Task, TaskStatus

SEED = {"M+A+N": "pursue", "M+A+n": "create_need", "M+a+N": "find_authority",
        "m+A+N": "check_credit", "m+a+N": "nurture", "m+A+n": "nurture", "M+a+n": "nurture",
        "m+a+n": "stop"}


@given(st.one_of(st.none(), st.booleans()), st.one_of(st.none(), st.booleans()),
       st.one_of(st.none(), st.booleans()))
def test_the_man_name_says_each_judgement_and_parses_back(m, a, n):
    code = man.man_code(m, a, n)
    assert [part.lower() for part in code.split("+")] == [
        "?" if v is None else letter for v, letter in zip((m, a, n), "man", strict=True)]
    if None in (m, a, n):
        assert man.action_code(m, a, n) == man.JUDGE
    else:
        assert man.parse_man(code) == (m, a, n)
        assert man.action_code(m, a, n) == SEED[code]


def test_the_three_nurture_combinations_share_one_code_and_eight_have_six_actions():
    codes = {man.man_code(*c): man.action_code(*c)
             for c in itertools.product([True, False], repeat=3)}
    assert codes == SEED
    assert len(set(codes.values())) == 6


def _lead(user, m, a, n, **data):
    return services.create_lead(user, {"name": data.pop("name", "Lead"),
                                       "source": data.pop("source", "exhibition"), **data},
                                judgements={"money": (m, "m"), "authority": (a, "a"),
                                            "need": (n, "n")})


@pytest.mark.django_db
@pytest.mark.parametrize("combo", list(itertools.product([True, False], repeat=3)))
def test_each_combination_gives_its_action_and_task(users, combo):
    lead = _lead(users["sales1"], *combo)
    assert lead.action == SEED[lead.man]
    task = Task.objects.filter(lead=lead, status=TaskStatus.OPEN).first()
    if lead.action == "stop":
        assert task is None
    else:
        assert task.origin == f"lead:{lead.action}" and task.assignee == users["sales1"]
        assert task.customer is None and task.reason == lead.man
    assert lead.judgements.count() == 3


@pytest.mark.django_db
def test_judgement_history_is_kept(users):
    lead = _lead(users["sales1"], True, False, True)
    lead = services.judge_lead(users["sales1"], lead, {"authority": (True, "GM signs")},
                               expected_version=lead.version)
    assert lead.man == "M+A+N"
    history = list(lead.judgements.filter(factor="authority").values_list("value", "note"))
    assert history == [(True, "GM signs"), (False, "a")]


@pytest.mark.django_db
def test_the_lead_task_shows_on_the_owners_workbench_only(client, users):
    lead = _lead(users["sales1"], True, True, True, name="深圳理想客户有限公司")
    client.force_login(users["sales1"])
    page = client.get("/").content.decode()
    assert "深圳理想客户有限公司" in page and f"/sales/leads/{lead.pk}/" in page
    client.force_login(users["sales2"])
    assert "深圳理想客户有限公司" not in client.get("/").content.decode()
    assert client.get(f"/sales/leads/{lead.pk}/").status_code == 404
    client.force_login(users["sales1"])
    for url in ("/sales/leads/", f"/sales/leads/{lead.pk}/", "/sales/leads/funnel/",
                "/sales/leads/new/", f"/sales/leads/{lead.pk}/edit/",
                "/sales/leads/?action=pursue"):
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_the_lead_form_creates_judges_and_converts(client, users):
    client.force_login(users["sales1"])
    response = client.post("/sales/leads/new/", {
        "name": "杭州门当户对有限公司", "source": "website", "money": "yes", "authority": "no",
        "need": "yes", "contact_name": "赵经理", "fits_our_size": "yes"})
    assert response.status_code == 302, response.content.decode()[:3000]
    lead = Lead.objects.get(name="杭州门当户对有限公司")
    assert (lead.man, lead.action) == ("M+a+N", "find_authority")
    page = client.get(f"/sales/leads/{lead.pk}/").content.decode()
    assert "M+a+N" in page and "find the person with authority" in page
    client.post(f"/sales/leads/{lead.pk}/judge/", {
        "money": "yes", "authority": "yes", "need": "yes", "version": lead.version})
    lead.refresh_from_db()
    assert lead.action == "pursue"
    response = client.post(f"/sales/leads/{lead.pk}/convert/", {"version": lead.version})
    lead.refresh_from_db()
    assert response.status_code == 302 and lead.customer is not None
    card = client.get(f"/customers/{lead.customer_id}/").content.decode()
    assert "From a lead" in card and "Website" in card
    bad = client.post("/sales/leads/new/", {"name": "", "source": "referral"})
    assert bad.status_code == 400


@pytest.mark.django_db
def test_the_score_explains_itself_and_looks_like_loyal_customers(users):
    admin = users["admin"]
    for i in range(3):
        create_customer(admin, {"name": f"Loyal {i}", "industry": "Machinery",
                                "province": "浙江", "size": "medium"},
                        owner=users["sales1"], state=LifecycleState.LOYAL)
    create_customer(admin, {"name": "Loyal 3", "industry": "Textiles", "province": "浙江"},
                    owner=users["sales1"], state=LifecycleState.LOYAL)
    lead = _lead(users["sales1"], True, True, False, industry="Textiles", province="浙江",
                 size="medium", pays_on_time=True, fits_our_size=True)
    from kehu.sales.leads.scoring import score_lead

    score = score_lead(lead)
    parts = {p.label: p.points for p in score.parts}
    # money 15 + authority 15 + 2 checks × 6 + industry 6×1/3 + region 5 + size 5 = 54
    assert parts["Industry"] == 2 and parts["Region"] == 5 and parts["Company size"] == 5
    assert score.total == 54 == lead.score
    assert sum(p.of for p in score.parts) == 100


@pytest.mark.django_db
def test_the_funnel_adds_up_by_hand(users):
    sales1, admin = users["sales1"], users["admin"]
    leads = [_lead(sales1, True, True, True, source="exhibition", name=f"E{i}")
             for i in range(4)]
    leads += [_lead(sales1, False, False, False, source="exhibition", name="E-stop")]
    leads += [_lead(sales1, True, None, True, source="website", name="W")]
    # Two exhibition leads converted, one of them buys afterwards.
    for lead in leads[:2]:
        services.convert_lead(sales1, lead)
    customer = Lead.objects.get(pk=leads[0].pk).customer
    create_transaction(admin, customer, date=timezone.localdate() + dt.timedelta(days=1),
                       amount="100")
    funnel = selectors.funnel(sales1, by="source")
    rows = {r.key: r.counts for r in funnel.rows}
    assert rows["exhibition"] == {"leads": 5, "qualified": 4, "converted": 2,
                                  "first_purchase": 1}
    assert rows["website"] == {"leads": 1, "qualified": 0, "converted": 0, "first_purchase": 0}
    assert funnel.total.counts == {"leads": 6, "qualified": 4, "converted": 2,
                                   "first_purchase": 1}
    exhibition = next(r for r in funnel.rows if r.key == "exhibition")
    assert exhibition.rate("qualified") == 80.0 and exhibition.rate("converted") == 50.0
    assert exhibition.rate("first_purchase") == 50.0
    assert exhibition.median_days("first_purchase") == 1.0
    # sales2 sees none of them
    assert selectors.funnel(users["sales2"]).total.counts["leads"] == 0


@pytest.mark.django_db
def test_the_funnel_and_receivables_filters_read_right_in_chinese(client, users):
    """The funnel's grouping is not the "by" of a change history (操作人), and an empty
    owner or team filter says whom it shows rather than a row of dashes."""
    from django.urls import reverse

    client.force_login(users["manager1"])
    client.cookies["django_language"] = "zh-hans"
    funnel = client.get(reverse("sales:lead_funnel")).content.decode()
    assert "分组方式" in funnel and "操作人" not in funnel
    receivables = client.get(reverse("sales:credit:receivables")).content.decode()
    assert "所有人" in receivables and "所有团队" in receivables
    assert "---------" not in receivables


@pytest.mark.django_db
def test_a_referral_must_name_a_visible_customer(users, customers):
    from kehu.core.errors import ServiceError

    with pytest.raises(ServiceError):
        services.create_lead(users["sales1"], {"name": "R", "source": "referral"})
    with pytest.raises(ServiceError):
        services.create_lead(users["sales1"], {"name": "R", "source": "referral"},
                             referrer=customers["north"])


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_demo_gives_each_salesperson_leads_in_all_eight_classes(users, customers,
                                                                    language):
    from kehu.demo import leads as demo_leads

    made = demo_leads.load(users, list(customers.values()), language)
    sales = [u for u in users.values() if u.role == "sales"]
    assert made == 20 * len(sales)
    for user in sales:
        mine = Lead.objects.filter(owner=user)
        assert set(SEED) <= set(x.man for x in mine)
        assert len({x.source for x in mine}) >= 4
        assert mine.filter(status="converted").count() == 2
    first = [(x.name, x.man) for x in Lead.objects.order_by("pk")[:5]]
    Lead.objects.all().delete()
    demo_leads.load(users, list(customers.values()), language)
    assert [(x.name, x.man) for x in Lead.objects.order_by("pk")[:5]] == first
    assert selectors.funnel(users["admin"]).total.counts["first_purchase"] == len(sales)


@pytest.mark.django_db
def test_a_referrer_out_of_reach_is_never_named_and_an_edit_keeps_it(client, users, customers):
    from django.urls import reverse

    # The manager records a lead for sales1, referred by a customer of sales1b.
    hidden = customers["east_b"]
    lead = services.create_lead(users["manager1"], {"name": "暗线索", "source": "referral"},
                                owner=users["sales1"], referrer=hidden)
    client.force_login(users["sales1"])
    page = client.get(reverse("sales:lead_detail", args=[lead.pk])).content.decode()
    assert hidden.name not in page and "outside your scope" in page
    form = client.get(reverse("sales:lead_edit", args=[lead.pk])).content.decode()
    assert hidden.name not in form
    client.force_login(users["manager1"])
    assert hidden.name in client.get(reverse("sales:lead_detail", args=[lead.pk])).content \
        .decode()
    # sales1 edits the lead: the referrer they could not see stays.
    client.force_login(users["sales1"])
    lead.refresh_from_db()
    services.update_lead(users["sales1"], lead, {"name": "暗线索（改）"},
                         expected_version=lead.version)
    response = client.post(reverse("sales:lead_edit", args=[lead.pk]), {
        "name": "暗线索 2", "source": "referral", "owner": users["sales1"].pk,
        "version": Lead.objects.get(pk=lead.pk).version, "referrer": "",
        "money": "", "authority": "", "need": ""})
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert Lead.objects.get(pk=lead.pk).referrer_id == hidden.pk
