"""The demo's sales pipeline: for each salesperson, opportunities with their own customers in
every open stage, some won in the last months, some lost with their reasons, a few that
nobody has touched for weeks (stale, with their follow-up tasks), and the firm's competitors.
Deterministic: the same seed gives the same pipeline."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone, translation

from kehu.accounts.models import User
from kehu.customers.models import Customer, Product
from kehu.sales.models import Activity, Competitor
from kehu.sales.pipeline import stale
from kehu.sales.pipeline.models import LostReason, Opportunity, Stage, StageChange

SEED = 20261206
PER_OPEN_STAGE = 2
WON = 3
LOST = 2
STALE = 2

COMPETITORS = [  # zh, en, website
    ("声海音像", "SoundSea Media", "https://soundsea.example"),
    ("华音唱片", "Huayin Records", "https://huayin.example"),
    ("星河数码", "Galaxy Digital", "https://galaxy-digital.example"),
]
TITLES = [  # zh, en
    ("年度采购合同", "Annual purchase contract"),
    ("门店背景音乐", "In-store background music"),
    ("精选套装团购", "Box set group order"),
    ("音响安装项目", "Audio installation project"),
    ("影视原声合作", "Soundtrack partnership"),
    ("员工福利采购", "Staff gift order"),
    ("新店开业备货", "New store opening stock"),
    ("节日促销备货", "Holiday promotion stock"),
]
LOST_NOTES = {  # reason: (zh, en)
    LostReason.PRICE: ("对方报价低一成", "Their quote was 10 % lower"),
    LostReason.COMPETITOR: ("客户选了原供应商", "The customer stayed with its supplier"),
    LostReason.NO_BUDGET: ("预算被砍", "The budget was cut"),
}


def load(customers: list[Customer], users: dict[str, User], language: str,
         today: dt.date) -> int:
    """Create the pipeline; returns how many opportunities."""
    rng = random.Random(SEED)
    zh = language == "zh-hans"
    rivals = [Competitor.objects.get_or_create(name=z if zh else e, defaults={"website": w})[0]
              for z, e, w in COMPETITORS]
    products = list(Product.objects.order_by("code"))
    stages = list(Stage.objects.order_by("order", "id"))
    open_stages = [s for s in stages if s.is_open]
    won = next(s for s in stages if s.kind == "won")
    lost = next(s for s in stages if s.kind == "lost")
    now = timezone.now()
    made: list[tuple[Opportunity, list, list, dt.datetime]] = []
    for username in ("sales1", "sales2"):
        user = users[username]
        own = [c for c in customers if c.owner_id == user.pk]
        rng.shuffle(own)
        plan = [s for s in open_stages for _i in range(PER_OPEN_STAGE)] + [won] * WON + \
            [lost] * LOST
        for i, stage in enumerate(plan):
            customer = own[i % len(own)]
            title = rng.choice(TITLES)[0 if zh else 1]
            amount = Decimal(rng.randrange(20, 400) * 100)
            touched = now - dt.timedelta(days=rng.randrange(0, 10), hours=rng.randrange(24))
            close = today + dt.timedelta(days=rng.randrange(5, 150))
            opp = Opportunity(customer=customer, title=title, stage=stage, amount=amount,
                              expected_close=close, owner=user, updated_by=user,
                              touched_at=touched)
            if stage.is_closed:
                opp.closed_on = today - dt.timedelta(days=rng.randrange(3, 90))
                opp.expected_close = opp.closed_on
            if stage == lost:
                reason = list(LOST_NOTES)[i % len(LOST_NOTES)]
                opp.lost_reason = reason
                opp.lost_note = LOST_NOTES[reason][0 if zh else 1]
            made.append((opp, rng.sample(products, k=rng.randrange(1, 3)) if products else [],
                         rng.sample(rivals, k=rng.randrange(0, 3)), touched))
        # The first opportunities of the two earliest open stages: untouched for weeks, with
        # customers nobody has called or visited lately either.
        busy = set(Activity.objects.filter(
            customer__owner=user, occurred_at__gte=now - dt.timedelta(days=60))
            .values_list("customer_id", flat=True))
        quiet = [c for c in own if c.pk not in busy] or own
        for k, (opp, _p, _c, _t) in enumerate(
                [m for m in made if m[0].owner_id == user.pk and m[0].stage.is_open]
                [:STALE * PER_OPEN_STAGE:PER_OPEN_STAGE]):
            opp.customer = quiet[k % len(quiet)]
            opp.touched_at = now - dt.timedelta(days=rng.randrange(30, 45))
    Opportunity.objects.bulk_create([m[0] for m in made])
    for opp, prods, rivs, _t in made:
        opp.products.set(prods)
        opp.competitors.set(rivs)
    changes = []
    for opp, *_rest in made:
        created = opp.touched_at - dt.timedelta(days=rng.randrange(10, 60))
        changes.append(StageChange(opportunity=opp, from_stage=None, to_stage=open_stages[0],
                                   by=opp.owner))
        if opp.stage != open_stages[0]:
            changes.append(StageChange(opportunity=opp, from_stage=open_stages[0],
                                       to_stage=opp.stage, by=opp.owner))
        opp.created_at = created
    StageChange.objects.bulk_create(changes)
    # The moves happened when the opportunity was created and last touched.
    for change in changes:
        at = change.opportunity.created_at if change.from_stage is None else \
            change.opportunity.touched_at
        StageChange.objects.filter(pk=change.pk).update(at=at)
    for opp, *_rest in made:
        Opportunity.objects.filter(pk=opp.pk).update(created_at=opp.created_at,
                                                     updated_at=opp.touched_at)
    with translation.override(language):
        stale.run(today + dt.timedelta(days=1))
    return len(made)
