"""The one way kehu sends a marketing e-mail.

Campaigns, offers and any later part call `send_marketing_email` (one person, now) or
`send_marketing_emails` (many, in batches), or `start_bulk_send` for a background job with
progress. Each of them, for every recipient, at the moment of sending (not when a list was
built):

- checks that the sender may send marketing (policy.may_send_marketing) and that the
  customer is in the sender's scope;
- checks consent: e-mail is opt-in, so nothing goes out without consent given for e-mail
  (the contact person's own when the e-mail goes to a contact, else the customer's); a
  refusal of automated marketing (for e-mails sent in bulk, `automated`) or of
  personalisation (for e-mails whose content was chosen from the person's data,
  `personalised`) by the customer or the contact stops it too;
- adds a signed unsubscribe link (kehu.marketing.consent.links) to the text and as the
  List-Unsubscribe header (RFC 8058 one-click);
- sends through Django's e-mail backend (the console in the demo, SMTP in production);
- records a MarketingSend for every recipient, sent or not and why (the card shows them),
  and writes the audit log: one row per e-mail sent alone, one row per batch naming its
  customers.

Consent is read per batch of BATCH recipients just before that batch is handed to the mail
backend, so an opt-out recorded while a long job runs stops every e-mail of the batches
still to come.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.template import Context, Template, TemplateSyntaxError
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from kehu.audit.services import customer_set, record
from kehu.core import jobs, policy
from kehu.core.errors import NotPermitted, ServiceError
from kehu.core.models import Job
from kehu.core.permissions import VIEW, restrict
from kehu.customers.models import Contact, Customer
from kehu.marketing.consent.links import unsubscribe_url
from kehu.marketing.consent.models import (
    Channel,
    Consent,
    ConsentStatus,
    MarketingSend,
    SendStatus,
)

BATCH = 500
BULK_JOB = "marketing.send"


@dataclass(frozen=True)
class Email:
    """One e-mail to one customer (or one of its contact people), its text already
    written. The unsubscribe link is added by the send service."""

    customer_id: int
    subject: str
    body: str
    contact_id: int | None = None


@dataclass
class SendSummary:
    """What a send did: how many e-mails went out and how many were held back, by reason
    (SendStatus values), and the ids of the MarketingSend rows."""

    counts: Counter = field(default_factory=Counter)
    out_of_scope: int = 0
    send_ids: list[int] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return self.counts[SendStatus.SENT]

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "counts": dict(self.counts),
                "out_of_scope": self.out_of_scope}


def footer(url: str) -> str:
    return "\n\n-- \n" + _("You receive this e-mail because you agreed to hear from us. "
                           "To receive no more, open this link: %(url)s") % {"url": url}


def decide(emails: Sequence[Email], *, automated: bool, personalised: bool
           ) -> dict[tuple[int, int | None], tuple[str, str]]:
    """For each recipient (customer id, contact id), (SendStatus, address) as the database
    says right now. Three queries, whatever the number of recipients."""
    customer_ids = {e.customer_id for e in emails}
    contact_ids = {e.contact_id for e in emails if e.contact_id is not None}
    customer_mail = dict(Customer.objects.filter(pk__in=customer_ids)
                         .values_list("pk", "email"))
    contact_mail = {pk: (customer_id, mail) for pk, customer_id, mail in
                    Contact.objects.filter(pk__in=contact_ids)
                    .values_list("pk", "customer_id", "email")}
    uses = []
    if automated:
        uses.append(Channel.AUTOMATED)
    if personalised:
        uses.append(Channel.PERSONALISATION)
    email_status: dict[tuple[int, int | None], str] = {}
    objected_customers, objected_contacts = set(), set()
    for customer_id, contact_id, channel, status in Consent.objects.filter(
            customer_id__in=customer_ids, channel__in=[Channel.EMAIL, *uses]).values_list(
            "customer_id", "contact_id", "channel", "status"):
        if channel == Channel.EMAIL:
            email_status[(customer_id, contact_id)] = status
        elif status == ConsentStatus.REFUSED:
            (objected_contacts if contact_id else objected_customers).add(
                contact_id or customer_id)
    out = {}
    for e in emails:
        key = (e.customer_id, e.contact_id)
        if e.contact_id is None:
            address = customer_mail.get(e.customer_id, "")
        else:
            owner, address = contact_mail.get(e.contact_id, (None, ""))
            if owner != e.customer_id:
                address = ""
        status = email_status.get(key)
        if status == ConsentStatus.REFUSED:
            verdict = SendStatus.REFUSED
        elif e.customer_id in objected_customers or e.contact_id in objected_contacts:
            verdict = SendStatus.OBJECTED
        elif status != ConsentStatus.GIVEN:
            verdict = SendStatus.NO_CONSENT
        elif not address:
            verdict = SendStatus.NO_ADDRESS
        else:
            verdict = SendStatus.SENT
        out[key] = (verdict, address or "")
    return out


def _message(e: Email, address: str, connection) -> EmailMessage:
    url = unsubscribe_url(e.customer_id, e.contact_id)
    return EmailMessage(
        subject=e.subject[:200], body=e.body + footer(url), to=[address],
        from_email=settings.DEFAULT_FROM_EMAIL, connection=connection,
        headers={"List-Unsubscribe": f"<{url}>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})


def _check_sender(user) -> None:
    if not policy.may_send_marketing(user):
        raise NotPermitted(_("You may not send marketing e-mails."))


def _check_origin(origin: str) -> None:
    if not origin or len(origin) > 30:
        raise ValueError("origin names what sends the e-mails, in at most 30 characters")


def _send_batch(user, emails: Sequence[Email], *, origin: str, origin_id: int | None,
                automated: bool, personalised: bool, connection, job_id: int | None,
                summary: SendSummary, via: str, ip: str | None = None,
                audit_one: bool = False) -> None:
    in_scope = set(restrict(Customer.objects.filter(
        pk__in={e.customer_id for e in emails}), user, VIEW).values_list("pk", flat=True))
    summary.out_of_scope += sum(1 for e in emails if e.customer_id not in in_scope)
    emails = [e for e in emails if e.customer_id in in_scope]
    if not emails:
        return
    verdicts = decide(emails, automated=automated, personalised=personalised)
    now = timezone.now()
    rows = []
    for e in emails:
        status, address = verdicts[(e.customer_id, e.contact_id)]
        error = ""
        if status == SendStatus.SENT:
            try:
                _message(e, address, connection).send()
            except Exception as exc:  # noqa: BLE001 - the server's refusal is recorded
                status, error = SendStatus.FAILED, str(exc)[:300]
        summary.counts[status] += 1
        rows.append(MarketingSend(
            customer_id=e.customer_id, contact_id=e.contact_id, channel=Channel.EMAIL,
            address=address, subject=e.subject[:200], origin=origin, origin_id=origin_id,
            status=status, error=error, at=now, sent_by=user if user.pk else None,
            job_id=job_id))
    with transaction.atomic():
        made = MarketingSend.objects.bulk_create(rows)
        summary.send_ids.extend(r.pk for r in made if r.pk)
        counts = Counter(r.status for r in rows)
        detail = {"origin": origin, "subject": emails[0].subject[:200],
                  "counts": dict(counts)}
        if origin_id is not None:
            detail["record"] = origin_id
        if job_id is not None:
            detail["job"] = job_id
        if audit_one:
            record(user, "marketing.send", obj=made[0], customer_id=emails[0].customer_id,
                   detail={**detail, "status": rows[0].status}, ip=ip, via=via)
        else:
            record(user, "marketing.send_batch", ip=ip, via=via,
                   detail={**detail, **customer_set(e.customer_id for e in emails)})


def send_marketing_email(user, customer: Customer, *, subject: str, body: str,
                         origin: str, origin_id: int | None = None,
                         contact: Contact | None = None, automated: bool = False,
                         personalised: bool = False, ip: str | None = None,
                         via: str = "web") -> MarketingSend:
    """Send one e-mail now, if consent allows it; the MarketingSend says whether it went
    out and, if not, why. NotPermitted when the sender may not send or not see the
    customer."""
    _check_sender(user)
    _check_origin(origin)
    if not restrict(Customer.objects.filter(pk=customer.pk), user, VIEW).exists():
        raise NotPermitted(_("You may not send e-mails to this customer."))
    if contact is not None and contact.customer_id != customer.pk:
        raise ServiceError(_("This contact is not one of the customer's."), field="contact")
    summary = SendSummary()
    _send_batch(user, [Email(customer.pk, subject, body, contact.pk if contact else None)],
                origin=origin, origin_id=origin_id, automated=automated,
                personalised=personalised, connection=get_connection(), job_id=None,
                summary=summary, via=via, ip=ip, audit_one=True)
    return MarketingSend.objects.get(pk=summary.send_ids[0])


def send_marketing_emails(user, emails: Iterable[Email], *, origin: str,
                          origin_id: int | None = None, automated: bool = True,
                          personalised: bool = False, progress=None, total: int | None = None,
                          job_id: int | None = None, via: str = "system") -> SendSummary:
    """Send many e-mails, BATCH at a time, each batch checked against consent just before
    it goes out. Customers outside the sender's scope are skipped and counted. `progress`
    (a kehu.core.jobs.Progress) is told after each batch. Each batch is recorded in its
    own transaction: a failure half-way leaves the batches already sent recorded."""
    _check_sender(user)
    _check_origin(origin)
    summary = SendSummary()
    connection = get_connection()
    batch: list[Email] = []
    done = 0

    def flush() -> None:
        nonlocal done
        _send_batch(user, batch, origin=origin, origin_id=origin_id, automated=automated,
                    personalised=personalised, connection=connection, job_id=job_id,
                    summary=summary, via=via)
        done += len(batch)
        batch.clear()
        if progress is not None:
            progress.report(done)

    connection.open()
    try:
        for e in emails:
            batch.append(e)
            if len(batch) >= BATCH:
                flush()
        if batch:
            flush()
    finally:
        connection.close()
    return summary


# Bulk sends as a background job -----------------------------------------------------------

def compile_template(text: str, what: str) -> Template:
    """A subject or body written with {{ name }}, {{ customer_name }}, {{ contact_name }}
    and what the context builder adds; plain text, nothing escaped."""
    try:
        return Template("{% autoescape off %}" + text + "{% endautoescape %}")
    except TemplateSyntaxError as exc:
        message = (_("The subject cannot be read as a template: %(why)s") if what == "subject"
                   else _("The text cannot be read as a template: %(why)s"))
        raise ServiceError(message % {"why": exc}, field=what) from exc


ContextBuilder = Callable[[list[int]], dict[int, dict[str, Any]]]


def personalised_emails(recipients: Iterable[Sequence[int | None]], subject: Template,
                        body: Template, builder: ContextBuilder | None = None,
                        chunk: int = BATCH) -> Iterable[Email]:
    """E-mails written from templates for (customer id, contact id or None) pairs, BATCH
    at a time: names in one query per batch, and whatever `builder` adds for the batch's
    customers (an offer list, a coupon code)."""
    pending: list[tuple[int, int | None]] = []

    def write() -> Iterable[Email]:
        customer_ids = [c for c, _k in pending]
        names = dict(Customer.objects.filter(pk__in=customer_ids).values_list("pk", "name"))
        contact_names = dict(Contact.objects.filter(
            pk__in=[k for _c, k in pending if k]).values_list("pk", "name"))
        extra = builder(customer_ids) if builder is not None else {}
        for customer_id, contact_id in pending:
            customer_name = names.get(customer_id, "")
            contact_name = contact_names.get(contact_id, "") if contact_id else ""
            ctx = Context({"name": contact_name or customer_name,
                           "customer_name": customer_name, "contact_name": contact_name,
                           **extra.get(customer_id, {})}, autoescape=False)
            yield Email(customer_id, subject.render(ctx).strip().replace("\n", " "),
                        body.render(ctx), contact_id)
        pending.clear()

    for pair in recipients:
        customer_id, contact_id = (pair[0], pair[1] if len(pair) > 1 else None)
        pending.append((int(customer_id), int(contact_id) if contact_id else None))
        if len(pending) >= chunk:
            yield from write()
    if pending:
        yield from write()


def run_bulk_send(progress, user_id: int, recipients: list, subject: str, body: str,
                  origin: str, origin_id: int | None = None, automated: bool = True,
                  personalised: bool = False, builder: str | None = None,
                  job_id: int | None = None) -> dict[str, Any]:
    """The background job behind start_bulk_send (kehu worker runs it)."""
    from kehu.accounts.models import User

    user = User.objects.get(pk=user_id)
    progress.report(0, total=len(recipients), message=_("Sending e-mails"))
    emails = personalised_emails(recipients, compile_template(subject, "subject"),
                                 compile_template(body, "body"),
                                 import_string(builder) if builder else None)
    summary = send_marketing_emails(user, emails, origin=origin, origin_id=origin_id,
                                    automated=automated, personalised=personalised,
                                    progress=progress, job_id=job_id or progress.job_id)
    return summary.as_dict()


def start_bulk_send(user, recipients: Sequence[Sequence[int | None]], *, subject: str,
                    body: str, origin: str, origin_id: int | None = None,
                    automated: bool = True, personalised: bool = False,
                    builder: str | None = None, title: str = "") -> Job:
    """Queue a background job that writes an e-mail for each (customer id, contact id or
    None) from the `subject` and `body` templates and sends it through
    send_marketing_emails. `builder` is the dotted path of a function that takes a batch's
    customer ids and returns extra template values per customer. The job's progress counts
    recipients handled; its result the counts by SendStatus."""
    _check_sender(user)
    _check_origin(origin)
    compile_template(subject, "subject")
    compile_template(body, "body")
    if not recipients:
        raise ServiceError(_("There is nobody to send to."))
    pairs = [[int(p[0]), int(p[1]) if len(p) > 1 and p[1] else None] for p in recipients]
    return jobs.start(BULK_JOB, run_bulk_send, args=(user.pk, pairs, subject, body, origin),
                      kwargs={"origin_id": origin_id, "automated": automated,
                              "personalised": personalised, "builder": builder},
                      user=user, title=title or _("Send marketing e-mails"))

