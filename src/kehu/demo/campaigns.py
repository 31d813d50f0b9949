"""The demo's campaigns (kehu.marketing.campaigns): a finished sales promotion to first-time
buyers whose results show an uplift against its hold-out group, a running personal-selling
campaign of thank-you visits whose tasks sit on the salespeople's workbenches, and a draft
advertising campaign on a dynamic list of a value segment. The same seed gives the same
campaigns in either language."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from decimal import Decimal

from django.utils import timezone

from kehu.accounts.models import User
from kehu.customers.models import LifecycleState, Product, TransactionKind
from kehu.customers.services import create_transaction
from kehu.demo import names
from kehu.marketing.campaigns import selectors, services
from kehu.marketing.campaigns.models import (
    Campaign,
    CampaignContact,
    ContactGroup,
    ListKind,
)
from kehu.tasks.models import Task, TaskStatus

SEED = 14
# Of the first-time buyers the promotion reached, this share came back within its window
# because of it (the hold-out group's own returns are the history's).
PROMOTION_EFFECT = 0.18

TEXT = {
    "zh-hans": {
        "first_list": "首次购买客户（冻结）",
        "first_desc": "最近两个月首次购买的客户：营业推广的对象。",
        "promotion": "二次购买优惠：首次购买客户",
        "promotion_goal": "让首次购买的客户在一个月内再次购买。",
        "promotion_subject": "您的专属二次购买优惠",
        "promotion_message": "{{ name }}，您好！感谢您的首次购买。本月内再次购买可享九折优惠。",
        "loyal_list": "%(city)s忠诚客户",
        "visits": "%(city)s忠诚客户答谢拜访",
        "visits_goal": "拜访忠诚客户，感谢他们的支持，了解新的需求。",
        "visit_task": "答谢拜访：感谢支持并了解新需求",
        "visit_message": "带上新品目录，询问对服务的意见。",
        "invest_list": "高价值高潜力客户（动态）",
        "catalogue": "秋季新品目录",
        "catalogue_goal": "向高价值、高潜力客户介绍秋季新品。",
        "done": "已拜访，客户很满意",
    },
    "en": {
        "first_list": "First-time buyers (frozen)",
        "first_desc": "Customers whose first purchase was in the last two months: the "
                      "promotion's audience.",
        "promotion": "Second-purchase offer to first-time buyers",
        "promotion_goal": "Bring first-time buyers back for a second purchase within a month.",
        "promotion_subject": "Your second-purchase offer",
        "promotion_message": "Dear {{ name }}, thank you for your first order. Order again "
                             "this month for 10% off.",
        "loyal_list": "Loyal customers in %(city)s",
        "visits": "Thank-you visits to loyal customers in %(city)s",
        "visits_goal": "Thank loyal customers for their custom and learn what they need next.",
        "visit_task": "Thank-you visit: thank them and ask what they need next",
        "visit_message": "Bring the new catalogue and ask how we serve them.",
        "invest_list": "High current, high potential (dynamic)",
        "catalogue": "Autumn catalogue",
        "catalogue_goal": "Present the autumn range to the customers of high current and "
                          "potential value.",
        "done": "Visited; the customer is pleased",
    },
}


def _backdate(campaign: Campaign, when: dt.datetime) -> None:
    """The demo's campaigns ran in the past: their contact time is moved back (the demo
    writes history directly, as the loader does)."""
    Campaign.objects.filter(pk=campaign.pk).update(launched_at=when)
    CampaignContact.objects.filter(campaign=campaign).update(contacted_at=when)
    campaign.refresh_from_db()


def _launch(user: User, campaign: Campaign) -> bool:
    """Launch unless the list is empty (a small --sample may leave it so)."""
    if not selectors.count(user, campaign.target_list):
        return False
    # The same seed gives the same firm: the hold-out seed follows the campaign's name here,
    # where a real campaign draws it at random.
    seed = int.from_bytes(hashlib.sha256(campaign.name.encode()).digest()[:6], "big")
    Campaign.objects.filter(pk=campaign.pk).update(seed=seed)
    campaign.refresh_from_db()
    services.launch_campaign(user, campaign, via="cli")
    return True


def load(users: dict[str, User], language: str, last_day: dt.date) -> list[Campaign]:
    rng = random.Random(SEED)
    text = TEXT[language]
    marketer, manager = users["marketing1"], users["manager1"]
    admin = users["admin"]
    made = []

    # 1. A finished sales promotion with a measured uplift.
    first = services.create_target_list(
        marketer, {"name": text["first_list"], "description": text["first_desc"]},
        criteria={"state": LifecycleState.FIRST_PURCHASE}, kind=ListKind.FROZEN, via="cli")
    launched = timezone.make_aware(dt.datetime.combine(
        last_day - dt.timedelta(days=40), dt.time(9, 30)))
    promotion = services.create_campaign(marketer, {
        "name": text["promotion"], "kind": "sales_promotion", "goal": text["promotion_goal"],
        "budget": Decimal("12000.00"), "cost": Decimal("9800.00"),
        "starts_on": launched.date(), "ends_on": launched.date() + dt.timedelta(days=30),
        "channels": ["post", "sms"], "holdout_percent": 20, "attribution_days": 30,
        "subject": text["promotion_subject"], "message": text["promotion_message"]},
        target_list=first, via="cli")
    if _launch(marketer, promotion):
        _backdate(promotion, launched)
        treated = list(CampaignContact.objects.filter(
            campaign=promotion, group=ContactGroup.TREATED).select_related("customer")
            .order_by("customer_id"))
        products = list(Product.objects.filter(active=True, unit_price__gt=0).order_by("code")
                        [:50])
        for contact in treated:
            if not products or rng.random() >= PROMOTION_EFFECT:
                continue
            product = rng.choice(products)
            day = launched.date() + dt.timedelta(days=rng.randrange(2, 29))
            quantity = Decimal(rng.randrange(1, 4))
            create_transaction(admin, contact.customer, date=day, kind=TransactionKind.ORDER,
                               number=f"SO{day:%Y%m%d}-P{contact.customer_id}",
                               lines=[{"product": product, "description": product.name,
                                       "quantity": quantity,
                                       "unit_price": (product.unit_price * Decimal("0.9")).quantize(
                                           Decimal("0.01")),
                                       "unit_cost": product.unit_cost}], via="cli")
        promotion.refresh_from_db()
        services.finish_campaign(marketer, promotion, via="cli")
    made.append(promotion)

    # 2. A running personal-selling campaign: tasks for the owners, some done.
    province, city = "浙江", "杭州"
    shown_city = names.place(province, city, language)[1]
    loyal = services.create_target_list(
        manager, {"name": text["loyal_list"] % {"city": shown_city}},
        criteria={"state": LifecycleState.LOYAL, "city": shown_city}, kind=ListKind.FROZEN,
        via="cli")
    visits_at = timezone.make_aware(dt.datetime.combine(
        last_day - dt.timedelta(days=10), dt.time(10, 0)))
    visits = services.create_campaign(manager, {
        "name": text["visits"] % {"city": shown_city}, "kind": "personal_selling",
        "goal": text["visits_goal"], "budget": Decimal("3000.00"),
        "starts_on": visits_at.date(), "channels": ["visit"], "holdout_percent": 20,
        "attribution_days": 45, "subject": text["visit_task"],
        "message": text["visit_message"]}, target_list=loyal, via="cli")
    if _launch(manager, visits):
        _backdate(visits, visits_at)
        tasks = list(Task.objects.filter(origin=visits.task_origin, status=TaskStatus.OPEN)
                     .order_by("pk"))
        done = [t for t in tasks if rng.random() < 0.3]
        Task.objects.filter(pk__in=[t.pk for t in done]).update(
            status=TaskStatus.DONE, closed_at=visits_at + dt.timedelta(days=3),
            note=text["done"])
        for t in done:
            t.closed_by_id = t.assignee_id
        Task.objects.bulk_update(done, ["closed_by"])
    made.append(visits)

    # 3. A draft on a dynamic list of a value segment (filled by the value refresh).
    invest = services.create_target_list(marketer, {"name": text["invest_list"]},
                                         criteria={"segment": "invest"}, via="cli")
    made.append(services.create_campaign(marketer, {
        "name": text["catalogue"], "kind": "advertising", "goal": text["catalogue_goal"],
        "budget": Decimal("25000.00"), "starts_on": last_day + dt.timedelta(days=14),
        "channels": ["media", "post"], "holdout_percent": 10, "attribution_days": 60},
        target_list=invest, via="cli"))
    return made
