"""Satisfaction surveys for the demo firm, in the demo's language and both question texts:
one sent after a ticket is closed, one sent twice a year to key customers, and one sent by
hand; a year of answers from a few hundred customers, loyal customers more satisfied than
those slipping away, some low scores (each with its follow-up task for the owner, done
with a note unless the score came in the last week), and some invitations still waiting
for an answer. Deterministic: a seeded generator picks the customers and the answers."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone

from kehu.accounts.models import User
from kehu.customers.models import Customer, LifecycleState
from kehu.service.surveys import services
from kehu.service.surveys.models import Measure, Purpose
from kehu.tasks.models import Task, TaskStatus

SEED = 20261206
ANSWERED = 360  # customers who answered in the last year
WAITING = 25  # invitations sent in the last days, not answered yet

Q = {  # measure: (English, Chinese)
    Measure.CSAT: ("How satisfied are you with us overall?", "总体而言，您对我们满意吗？"),
    Measure.NPS: ("How likely are you to recommend us to a friend or colleague?",
                  "您向朋友或同事推荐我们的可能性有多大？"),
    Measure.MATERIAL: ("The products you bought from us", "您从我们这里购买的产品"),
    Measure.SPIRITUAL: ("Our service, our look and our brand", "我们的服务、形象和品牌"),
    Measure.SOCIAL: ("Our values and our responsibility to society",
                     "我们的价值观和社会责任"),
    Measure.BUY_AGAIN: ("How likely are you to buy from us again?",
                        "您再次向我们购买的可能性有多大？"),
    Measure.COMMENT: ("Anything else you would like to tell us?", "您还有什么想告诉我们的吗？"),
}
SURVEYS = [
    # purpose, (name en, name zh), (intro en, intro zh), measures
    (Purpose.AFTER_TICKET, ("After your service request", "服务回访"),
     ("We have just closed your request. How did we do?",
      "您的服务请求已处理完毕，请评价我们的服务。"),
     [Measure.CSAT, Measure.SPIRITUAL, Measure.NPS, Measure.COMMENT]),
    (Purpose.KEY_CUSTOMERS, ("Key customer satisfaction", "重点客户满意度调查"),
     ("Twice a year we ask our key customers how we are doing.",
      "我们每半年向重点客户了解一次满意度。"),
     [Measure.CSAT, Measure.MATERIAL, Measure.SPIRITUAL, Measure.SOCIAL, Measure.NPS,
      Measure.BUY_AGAIN, Measure.COMMENT]),
    (Purpose.BY_HAND, ("Quick satisfaction check", "满意度快速回访"), ("", ""),
     [Measure.CSAT, Measure.BUY_AGAIN, Measure.COMMENT]),
]
COMMENTS = {  # mood: [(en, zh)]
    "good": [("Delivery was fast and the staff friendly.", "发货很快，工作人员很热情。"),
             ("The engineer fixed it on the first visit.", "工程师第一次上门就修好了。"),
             ("Good value, we will order again.", "性价比高，我们还会再订。")],
    "bad": [("Nobody called back for a week.", "一个星期都没人回电话。"),
            ("The second delivery was damaged.", "第二批货有破损。"),
            ("Your price went up without notice.", "价格上涨没有提前通知。")],
}
FOLLOWED_UP = {"zh-hans": "已致电客户，问题已解决。",
               "en": "Called the customer; the problem is solved."}
RECENT_DAYS = 7  # low scores newer than this still wait for their call

# How satisfied customers of each state tend to be (mean CSAT).
MOOD = {LifecycleState.LOYAL: 4.5, LifecycleState.REPEAT_PURCHASE: 4.0,
        LifecycleState.FIRST_PURCHASE: 3.7, LifecycleState.CHURNED: 2.3}


def _clip(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _answers(rng: random.Random, survey, mean: float, zh: bool) -> dict[str, str]:
    out = {}
    mood = "bad" if mean < 3 else "good"
    for q in survey.questions.all():
        if q.measure == Measure.COMMENT:
            if rng.random() < 0.4:
                out[f"q{q.pk}"] = rng.choice(COMMENTS[mood])[1 if zh else 0]
            continue
        low, high = q.scale
        if high == 5:
            value = _clip(rng.gauss(mean, 0.8), 1, 5)
        else:
            value = _clip(rng.gauss((mean - 1) * 2.5, 1.6), 0, 10)
        out[f"q{q.pk}"] = str(value)
    return out


def load(customers: list[Customer], users: dict[str, User], language: str,
         today: dt.date) -> int:
    """Create the surveys and their answers; returns how many responses."""
    rng = random.Random(SEED)
    zh = language == "zh-hans"
    admin = users["admin"]
    surveys = {}
    for purpose, names, intros, measures in SURVEYS:
        surveys[purpose] = services.create_survey(
            admin, {"name_en": names[0], "name_zh": names[1], "intro_en": intros[0],
                    "intro_zh": intros[1], "purpose": purpose, "valid_days": 14},
            [{"measure": m, "text_en": Q[m][0], "text_zh": Q[m][1],
              "required": m != Measure.COMMENT} for m in measures], via="cli")
    buyers = [c for c in customers if c.lifecycle_state in MOOD]
    rng.shuffle(buyers)
    tz = timezone.get_current_timezone()
    made = 0
    for i, customer in enumerate(buyers[:ANSWERED + WAITING]):
        purpose = (Purpose.AFTER_TICKET, Purpose.KEY_CUSTOMERS, Purpose.BY_HAND)[i % 3]
        survey = surveys[purpose]
        waiting = i >= ANSWERED
        days_ago = rng.randrange(0, 5) if waiting else rng.randrange(5, 365)
        sent_at = dt.datetime.combine(today - dt.timedelta(days=days_ago),
                                      dt.time(rng.randrange(9, 18), rng.randrange(60)),
                                      tzinfo=tz)
        sent = services.send_survey(admin, survey, customer, language=language, now=sent_at,
                                    email=False, via="cli")
        if waiting:
            continue
        # Service got better over the year; sales2's customers a little less happy.
        mean = MOOD[customer.lifecycle_state] - 0.4 * days_ago / 365
        if customer.owner_id == users["sales2"].pk:
            mean -= 0.3
        answered_at = sent_at + dt.timedelta(hours=rng.randrange(1, 72))
        services.submit_answers(sent.invitation, _answers(rng, survey, mean, zh),
                                now=min(answered_at, timezone.now()))
        made += 1
    _follow_ups_done(language, today)
    return made


def _follow_ups_done(language: str, today: dt.date) -> None:
    """The owners called back on the older low scores: a firm does not leave a complaint
    waiting for months, so only the last week's follow-ups are still open."""
    tz = timezone.get_current_timezone()
    done = []
    for task in Task.objects.filter(origin=services.LOW_SCORE_ORIGIN, status=TaskStatus.OPEN,
                                    due_on__lt=today - dt.timedelta(days=RECENT_DAYS)):
        task.status = TaskStatus.DONE
        task.closed_at = dt.datetime.combine(task.due_on, dt.time(16, 30), tzinfo=tz)
        task.closed_by_id = task.assignee_id
        task.note = FOLLOWED_UP[language]
        done.append(task)
    Task.objects.bulk_update(done, ["status", "closed_at", "closed_by", "note"],
                             batch_size=1000)
