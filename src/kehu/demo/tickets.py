"""The demo's tickets: the East team's customers (service1's scope) and a few of North's,
with complaints, enquiries, repairs and requests in every status — new and unassigned,
in progress, waiting for the customer, resolved (some at the first contact) and closed —
their conversations, the time spent, and some that came in by e-mail; two left for a week,
past their service-level targets, which the sweep at the end of the load escalates.
Deterministic: the same seed gives the same tickets."""

from __future__ import annotations

import datetime as dt
import random

from django.utils import timezone, translation

from kehu.accounts.models import User
from kehu.customers.models import Contact, Customer
from kehu.service.sla import sweep as sla_sweep
from kehu.service.tickets import services
from kehu.service.tickets.models import EntryKind, TicketCategory, TicketStatus

SEED = 20261213

# kind, priority, category position, channel, (zh subject, en subject),
# (zh words of the customer, en), (zh reply, en reply), resolution (zh, en)
CASES = [
    ("complaint", "high", 20, "phone", ("订单迟到两周", "Order arrived two weeks late"),
     ("我们上月的订单到现在才到，门店活动都错过了。",
      "Last month's order only arrived now; we missed our store event."),
     ("非常抱歉，我们已查明是物流中转延误，将补偿运费。",
      "We are very sorry: it was held up in transit; we will refund the shipping."),
     ("退还运费并赠送一张优惠券", "Shipping refunded and a voucher sent")),
    ("repair", "urgent", 30, "phone", ("音响系统无声", "The sound system is silent"),
     ("店里的音响系统今天早上开始完全没有声音。",
      "The store's sound system has been completely silent since this morning."),
     ("工程师明天上午上门检修。", "An engineer will come tomorrow morning."),
     ("更换了功放保险丝", "Amplifier fuse replaced")),
    ("enquiry", "normal", 50, "email",
     ("套装CD能否开发票", "Can we get an invoice for box sets?"),
     ("请问团购的精选套装能开增值税专用发票吗？",
      "Can you issue a VAT invoice for the box set group order?"),
     ("可以，请提供贵公司的开票信息。", "Yes: please send us your company's invoice details."),
     ("已开具专用发票", "VAT invoice issued")),
    ("request", "low", 90, "web", ("修改收货地址", "Change the delivery address"),
     ("以后的订单请寄到我们的新仓库。", "Please ship future orders to our new warehouse."),
     ("地址已更新，下一单起生效。", "Updated: it applies from the next order."),
     ("地址已更新", "Address updated")),
    ("complaint", "normal", 60, "phone", ("客服电话无人接听", "Nobody answered the service line"),
     ("昨天打了三次客服电话都没人接。",
      "I called the service line three times yesterday; nobody answered."),
     ("抱歉让您久等，以后您可以直接联系我。",
      "Sorry for the wait; from now on you can call me directly."),
     ("已安排专人负责回访", "A named colleague now calls back")),
    ("repair", "high", 10, "visit", ("唱片有划痕", "Scratched discs in the delivery"),
     ("收到的二十张唱片里有五张有明显划痕。",
      "Five of the twenty discs we received are badly scratched."),
     ("我们会上门取回并换新。", "We will collect them and send new ones."),
     ("上门换货五张", "Five discs exchanged on site")),
    ("enquiry", "normal", 50, "phone", ("新品上市时间", "When does the new release come out?"),
     ("听说下个月有新的原声专辑，什么时候能订？",
      "We heard of a new soundtrack album next month; when can we order?"),
     ("下月十日开放预订，我们会提前通知您。",
      "Orders open on the 10th; we will tell you in advance."),
     ("已告知预订日期", "Order date given")),
    ("request", "normal", 40, "email", ("补寄上季度对账单", "Resend last quarter's statement"),
     ("财务需要上季度的对账单，请再发一份。",
      "Our accounts need last quarter's statement again."),
     ("对账单已重新发送到您的邮箱。", "The statement has been sent to your e-mail again."),
     ("已补寄对账单", "Statement resent")),
]

# The status each case ends in, in turn: every status, several times.
ENDINGS = [TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.RESOLVED,
           TicketStatus.CLOSED, TicketStatus.CLOSED, TicketStatus.OPEN, TicketStatus.WAITING,
           TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.NEW, TicketStatus.CLOSED]

# The positions of the tickets nobody got to for a week: a new complaint nobody answered and
# an urgent repair answered but not fixed, both past their service-level targets.
OVERDUE = (0, 1)


def load(customers: list[Customer], users: dict[str, User], language: str) -> int:
    """Create the tickets; returns how many."""
    rng = random.Random(SEED)
    zh = 0 if language == "zh-hans" else 1
    categories = {c.order: c for c in TicketCategory.objects.all()}
    east = [c for c in customers if c.team_id == users["service1"].team_id]
    north = [c for c in customers if c.team_id == users["manager2"].team_id]
    chosen = rng.sample(east, min(len(east), len(ENDINGS))) + rng.sample(north, min(len(north),
                                                                                 3))
    now = timezone.now()
    made = 0
    for i, customer in enumerate(chosen):
        kind, priority, category, channel, subject, words, reply, resolution = CASES[
            i % len(CASES)]
        in_east = customer.team_id == users["service1"].team_id
        agent = users["service1"] if in_east else users["manager2"]
        ending = ENDINGS[i % len(ENDINGS)]
        # Open tickets are recent but for the first two, left for a week (past their
        # service-level targets); finished ones go back up to two months.
        if i in OVERDUE:
            days_ago = rng.uniform(7, 9)
        elif ending in (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING):
            days_ago = rng.uniform(0.1, 3)
        else:
            days_ago = rng.uniform(4, 60)
        opened = now - dt.timedelta(days=days_ago)
        contact = Contact.objects.filter(customer=customer).order_by("-is_primary", "id").first()
        ticket = services.open_ticket(
            agent, customer, subject=subject[zh], kind=kind, priority=priority,
            channel=channel, category=categories.get(category), contact=contact,
            description=words[zh], at=opened, via="cli",
            sender=(contact.email if contact and channel == "email" else ""))
        made += 1
        if ending == TicketStatus.NEW:
            continue
        step = opened + dt.timedelta(minutes=rng.randrange(10, 90))
        services.assign_ticket(agent, ticket, agent, at=opened + dt.timedelta(minutes=5),
                               via="cli")
        services.add_entry(agent, ticket, kind=EntryKind.REPLY, body=reply[zh],
                           minutes=rng.choice([5, 10, 15, 20]), at=step,
                           waiting=ending == TicketStatus.WAITING or i % 3 == 0, via="cli")
        ticket.refresh_from_db()
        if ending in (TicketStatus.OPEN, TicketStatus.WAITING) and \
                ticket.status == ending:
            continue
        if ticket.status == TicketStatus.WAITING:
            step += dt.timedelta(hours=rng.randrange(2, 30))
            answer = ("好的，谢谢。", "Thank you, that works.")[zh]
            services.add_entry(None, ticket, kind=EntryKind.CUSTOMER, body=answer, at=step,
                               via="cli")
        if ending == TicketStatus.WAITING:
            step += dt.timedelta(hours=1)
            services.add_entry(agent, ticket, kind=EntryKind.REPLY, body=reply[zh],
                               waiting=True, at=step, via="cli")
            continue
        if ending == TicketStatus.OPEN:
            continue
        step += dt.timedelta(hours=rng.randrange(1, 48))
        if kind in ("repair", "complaint"):
            services.add_entry(agent, ticket, body=resolution[zh],
                               minutes=rng.choice([30, 45, 60, 90, 120]), at=step, via="cli")
        services.change_status(agent, ticket, TicketStatus.RESOLVED, resolution=resolution[zh],
                               at=step, via="cli")
        if ending == TicketStatus.CLOSED:
            closing = min(step + dt.timedelta(days=rng.randrange(1, 4)), now)
            services.close_ticket(agent, ticket, at=closing, via="cli")
    return made


def check_service_levels(language: str) -> int:
    """The service-level sweep as cron would run it now, once every ticket is in: the
    overdue tickets escalate to their managers and those nearly due warn their agents (the
    tasks in the demo's language). Returns how many tasks it made."""
    with translation.override(language):
        return sla_sweep.run(timezone.now())
