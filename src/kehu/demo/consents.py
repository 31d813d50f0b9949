"""The demo's consent and referral codes: most customers with an e-mail address agreed to
marketing e-mail (on a signed form, on the website or in person), some of them opted out
since (a few through the unsubscribe link), a few refused personalisation or automated
marketing, and some agreed to SMS and WeChat; some contact people answered for
themselves. Every customer who referred another has a referral code, and part of their
referrals were rewarded. Deterministic: its own random generator, the same answers in
either language."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.utils import timezone

from kehu.accounts.models import User
from kehu.analytics.models import Referral
from kehu.customers.models import Contact, Customer
from kehu.marketing.consent.models import (
    Channel,
    Consent,
    ConsentChange,
    ConsentSource,
    ConsentStatus,
)
from kehu.marketing.referrals.models import ReferralCode, ReferralReward, RewardKind
from kehu.marketing.referrals.services import ALPHABET, LENGTH

SEED = 14_024
GIVEN_SOURCES = [ConsentSource.FORM, ConsentSource.WEBSITE, ConsentSource.IN_PERSON,
                 ConsentSource.EMAIL]
NOTES = {"zh-hans": {"optout": "客户来电要求不再发送促销邮件",
                     "personal": "不希望根据购买记录推荐商品",
                     "reward": "推荐新客户奖励"},
         "en": {"optout": "Called to ask for no more promotional e-mail",
                "personal": "Does not want offers chosen from their purchases",
                "reward": "Reward for a new customer"}}


def _at(rng: random.Random, last_day: dt.date, back: int) -> dt.datetime:
    day = last_day - dt.timedelta(days=rng.randrange(1, back))
    return dt.datetime.combine(day, dt.time(rng.randrange(9, 18), rng.choice([0, 20, 40])),
                               tzinfo=timezone.get_current_timezone())


def load(users: dict[str, User], language: str, last_day: dt.date) -> dict[str, int]:
    rng = random.Random(SEED)
    text = NOTES["en" if language == "en" else "zh-hans"]
    recorder = users.get("marketing1") or users["admin"]
    consents: list[Consent] = []
    history: list[list[tuple]] = []

    def answer(customer_id: int, contact_id: int | None, channel: str,
               steps: list[tuple]) -> None:
        status, source, at, note, by = steps[-1]
        consents.append(Consent(customer_id=customer_id, contact_id=contact_id,
                                channel=channel, status=status, source=source, at=at,
                                note=note, recorded_by=by, version=len(steps)))
        history.append(steps)

    for pk, email in Customer.objects.order_by("pk").values_list("pk", "email"):
        if not email or rng.random() < 0.12:
            continue  # never asked
        given = (ConsentStatus.GIVEN, rng.choice(GIVEN_SOURCES), _at(rng, last_day, 500), "",
                 recorder)
        steps = [given]
        r = rng.random()
        if r < 0.04:
            steps.append((ConsentStatus.REFUSED, ConsentSource.UNSUBSCRIBE,
                          _at(rng, last_day, 60), "", None))
        elif r < 0.07:
            steps.append((ConsentStatus.REFUSED, ConsentSource.PHONE, _at(rng, last_day, 90),
                          text["optout"], users["service1"]))
        answer(pk, None, Channel.EMAIL, steps)
        if rng.random() < 0.03:
            answer(pk, None, Channel.PERSONALISATION, [
                (ConsentStatus.REFUSED, ConsentSource.PHONE, _at(rng, last_day, 200),
                 text["personal"], recorder)])
        if rng.random() < 0.015:
            answer(pk, None, Channel.AUTOMATED, [
                (ConsentStatus.REFUSED, ConsentSource.FORM, _at(rng, last_day, 200), "",
                 recorder)])
        for channel, share in ((Channel.SMS, 0.3), (Channel.WECHAT, 0.2)):
            if rng.random() < share:
                answer(pk, None, channel, [(ConsentStatus.GIVEN, ConsentSource.FORM,
                                            given[2], "", recorder)])
    for pk, customer_id in Contact.objects.exclude(email="").order_by("pk").values_list(
            "pk", "customer_id"):
        if rng.random() < 0.5:
            status = ConsentStatus.REFUSED if rng.random() < 0.1 else ConsentStatus.GIVEN
            answer(customer_id, pk, Channel.EMAIL, [(status, ConsentSource.IN_PERSON,
                                                    _at(rng, last_day, 400), "", recorder)])
    made = Consent.objects.bulk_create(consents, batch_size=5000)
    ConsentChange.objects.bulk_create([
        ConsentChange(consent=c, customer_id=c.customer_id, status=s, source=src, at=at,
                      note=note, recorded_by=by)
        for c, steps in zip(made, history, strict=True)
        for s, src, at, note, by in steps], batch_size=5000)

    referrals = list(Referral.objects.order_by("referred_on", "pk"))
    referrers = sorted({r.referrer_id for r in referrals})
    codes, seen = [], set()
    for pk in referrers:
        code = "".join(rng.choice(ALPHABET) for _i in range(LENGTH))
        while code in seen:
            code = "".join(rng.choice(ALPHABET) for _i in range(LENGTH))
        seen.add(code)
        codes.append(ReferralCode(customer_id=pk, code=code, created_by=recorder))
    ReferralCode.objects.bulk_create(codes, batch_size=5000)
    rewards = []
    for r in referrals:
        if rng.random() < 0.6:
            kind = rng.choice(list(RewardKind))
            value = Decimal({"coupon": 50, "discount": 100, "gift": 80, "points": 200}[kind])
            rewards.append(ReferralReward(
                referral=r, customer_id=r.referrer_id, kind=kind, value=value,
                granted_on=min(r.referred_on + dt.timedelta(days=rng.randrange(3, 30)),
                               last_day),
                note=text["reward"], granted_by=recorder))
    ReferralReward.objects.bulk_create(rewards, batch_size=5000)
    return {"consents": len(made), "referral_codes": len(codes), "rewards": len(rewards)}
