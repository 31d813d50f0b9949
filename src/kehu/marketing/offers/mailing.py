"""Offer lists by e-mail, many at once: the background job behind
services.start_offer_mailing. Every e-mail goes through the one marketing send service
(kehu.marketing.consent.sending) as a personalised, automated e-mail, so that consent to
e-mail and a refusal of automated marketing or of personalisation are checked for each
customer at the moment its batch is sent; each list records what became of its e-mail."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from kehu.marketing.consent.models import MarketingSend
from kehu.marketing.consent.models import SendStatus as MailStatus
from kehu.marketing.consent.sending import BATCH, Email, send_marketing_emails
from kehu.marketing.offers.models import OfferItem, OfferList, OfferSend, SendChannel, SendStatus
from kehu.marketing.offers.texts import email_body, email_subject

ORIGIN = "offer"
JOB = "marketing.offers.send"


def offer_send_for(offer_list_id: int, mail: MarketingSend, user) -> OfferSend:
    """What a MarketingSend of the send service means for the list it carried."""
    status = (SendStatus.SENT if mail.status == MailStatus.SENT
              else SendStatus.FAILED if mail.status in (MailStatus.FAILED, MailStatus.NO_ADDRESS)
              else SendStatus.REFUSED)
    return OfferSend(offer_list_id=offer_list_id, channel=SendChannel.EMAIL, status=status,
                     recipient=mail.address,
                     note="" if status == SendStatus.SENT else mail.get_status_display(),
                     at=mail.at or timezone.now(), by=user if getattr(user, "pk", None) else None)


def lists_with_items():
    return OfferList.objects.select_related("customer", "coupon").prefetch_related(
        Prefetch("items", queryset=OfferItem.objects.select_related("product", "because")))


def run_offer_mailing(progress, user_id: int, list_ids: list[int],
                      job_id: int | None = None) -> dict[str, Any]:
    """E-mail the offer lists `list_ids`, BATCH at a time (one list per customer)."""
    from kehu.accounts.models import User

    user = User.objects.get(pk=user_id)
    progress.report(0, total=len(list_ids), message=_("Sending offer lists"))
    counts: Counter = Counter()
    out_of_scope = done = 0
    for start in range(0, len(list_ids), BATCH):
        chunk = list_ids[start:start + BATCH]
        lists = list(lists_with_items().filter(pk__in=chunk).order_by("pk"))
        summary = send_marketing_emails(
            user, (Email(x.customer_id, email_subject(x), email_body(x)) for x in lists),
            origin=ORIGIN, automated=True, personalised=True,
            job_id=job_id or progress.job_id)
        by_customer = {m.customer_id: m for m in
                       MarketingSend.objects.filter(pk__in=summary.send_ids)}
        OfferSend.objects.bulk_create([offer_send_for(x.pk, by_customer[x.customer_id], user)
                                       for x in lists if x.customer_id in by_customer])
        counts.update(summary.counts)
        out_of_scope += summary.out_of_scope
        done += len(chunk)
        progress.report(done)
    return {"sent": counts[MailStatus.SENT],
            "held": sum(counts.values()) - counts[MailStatus.SENT], "counts": dict(counts),
            "out_of_scope": out_of_scope}
