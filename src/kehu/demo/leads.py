"""The demo's leads: for each salesperson, leads from several sources in every one of the
eight MAN combinations (and a few not judged yet), each with its task; a few pursued leads
converted into target customers, one of which has bought since, so that the funnel shows
every step. The same seed gives the same leads in either language."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from django.utils import timezone, translation

from kehu.accounts.models import User
from kehu.core.roles import Role
from kehu.customers.models import CompanySize
from kehu.customers.services import create_transaction
from kehu.demo import names
from kehu.sales.leads import services
from kehu.sales.leads.models import Lead, LeadSource, ManJudgement
from kehu.sales.leads.scoring import loyal_profile

SEED = 12
PLACES = [("浙江", "杭州"), ("江苏", "苏州"), ("上海", "上海"), ("北京", "北京"),
          ("山东", "青岛"), ("福建", "厦门")]
SOURCES = [LeadSource.EXHIBITION, LeadSource.WEBSITE, LeadSource.REFERRAL,
           LeadSource.INTERMEDIARY, LeadSource.PUBLIC_RECORDS, LeadSource.COLD_CALL]
SIZES = [CompanySize.SMALL, CompanySize.MEDIUM, CompanySize.MICRO, CompanySize.LARGE]
NOTES = {
    "zh-hans": {
        "money": ("年营业额稳定，预算已批", "资金紧张，正在融资"),
        "authority": ("总经理本人参加洽谈", "联系人只负责收集资料"),
        "need": ("现有供应商交货不及时", "目前没有采购计划"),
        "detail": {"exhibition": "上海国际工业博览会", "website": "官网询价表单",
                   "referral": "", "intermediary": "行业协会介绍",
                   "public_records": "企业信用信息公示系统", "cold_call": "电话黄页"},
        "titles": ["采购经理", "总经理", "技术总监", "行政主管"],
    },
    "en": {
        "money": ("Steady turnover, budget approved", "Short of cash, raising funds"),
        "authority": ("The general manager joins the talks", "Our contact only gathers offers"),
        "need": ("Their supplier delivers late", "No purchase planned"),
        "detail": {"exhibition": "Shanghai Industry Fair", "website": "Enquiry form",
                   "referral": "", "intermediary": "Trade association",
                   "public_records": "Enterprise credit register",
                   "cold_call": "Business directory"},
        "titles": ["Purchasing manager", "General manager", "Technical director",
                   "Office manager"],
    },
}


def load(users: dict[str, User], customers: list, language: str) -> int:
    """Create the demo's leads; returns how many."""
    rng = random.Random(SEED)
    text = NOTES["en" if language == "en" else "zh-hans"]
    profile = loyal_profile()
    now = timezone.now()
    combos = list(itertools.product([True, False], repeat=3))
    combos += [(True, None, True), (None, None, None)]
    made = 0
    sales = [u for u in users.values() if u.role == Role.SALES]
    with translation.override(language):
        # The seat in the team, not the database key, picks the sources: keys differ
        # between databases and between loads, the demo must not.
        for seat, user in enumerate(sales):
            referrers = [c for c in customers if c.owner_id == user.pk]
            for i, (m, a, n) in enumerate(combos * 2):
                source = SOURCES[(i + seat) % len(SOURCES)]
                province, city = PLACES[rng.randrange(len(PLACES))]
                name, industry = names.company(rng, city, language)
                province, city = names.place(province, city, language)
                judged = {f: (v, "" if v is None else text[f][0 if v else 1])
                          for f, v in (("money", m), ("authority", a), ("need", n))}
                referrer = rng.choice(referrers) if source == LeadSource.REFERRAL and \
                    referrers else None
                lead = services.create_lead(
                    user, {"name": name, "industry": industry, "province": province,
                           "city": city, "size": SIZES[rng.randrange(len(SIZES))],
                           "source": source if referrer or source != LeadSource.REFERRAL
                           else LeadSource.EXHIBITION,
                           "source_detail": text["detail"][source],
                           "contact_name": names.person(rng, language),
                           "contact_title": rng.choice(text["titles"]),
                           "phone": names.mobile(rng),
                           "pays_on_time": rng.random() < 0.6,
                           "fits_our_size": rng.random() < 0.5},
                    referrer=referrer, judgements=judged, profile=profile,
                    record_event=False)
                # Spread over the last six months, so the funnel has months to compare.
                came = now - dt.timedelta(days=rng.randrange(5, 180))
                Lead.objects.filter(pk=lead.pk).update(
                    created_at=came, qualified_at=min(now, came + dt.timedelta(
                        days=rng.randrange(1, 15))) if lead.qualified_at else None)
                ManJudgement.objects.filter(lead=lead).update(judged_at=came)
                made += 1
            _convert(rng, user, now)
    return made


def _convert(rng: random.Random, user: User, now: dt.datetime) -> None:
    """Two of the salesperson's ideal prospects become target customers; the first has
    bought since."""
    pursued = Lead.objects.filter(owner=user, action="pursue").order_by("pk")[:2]
    for k, lead in enumerate(pursued):
        customer = services.convert_lead(user, lead)
        converted = min(now, (lead.qualified_at or lead.created_at)
                        + dt.timedelta(days=rng.randrange(2, 10)))
        Lead.objects.filter(pk=lead.pk).update(converted_at=converted)
        if k == 0:
            bought = min(timezone.localdate(), timezone.localdate(converted)
                         + dt.timedelta(days=3))
            # One line, like every other demo order: the first order of the new account.
            create_transaction(user, customer, date=bought, lines=[{
                "description": lead.name[:200], "quantity": "1", "unit_price": "12800.00",
                "unit_cost": "9100.00"}])
