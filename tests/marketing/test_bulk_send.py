"""Bulk sends as a background job with progress: personalised from templates, consent
checked batch by batch at send time, and the consent columns of customer exports."""

from __future__ import annotations

import csv

import pytest
from django.core import mail

from kehu.core import jobs
from kehu.core.errors import ServiceError
from kehu.core.worker import run_pending
from kehu.customers.models import Customer
from kehu.marketing.consent import sending
from kehu.marketing.consent.models import Consent, MarketingSend
from kehu.marketing.consent.services import set_consent


def extra_context(customer_ids):
    """A builder for the test: what each customer gets in the e-mail."""
    return {pk: {"offer": f"offer-{pk}"} for pk in customer_ids}


@pytest.mark.django_db(transaction=True)
def test_a_bulk_send_runs_as_a_job_and_checks_consent_per_batch(users, monkeypatch,
                                                                 committed_db):
    admin, marketing = users["admin"], users["marketing1"]
    owner = users["sales1"]
    firm = Customer.objects.bulk_create([
        Customer(name=f"客户{i}", email=f"c{i}@example.com", owner=owner, team=owner.team)
        for i in range(12)])
    for c in firm[:10]:
        set_consent(admin, c, channel="email", status="given", source="form")
    monkeypatch.setattr(sending, "BATCH", 5)
    # An opt-out recorded while the job runs (after the first batch) stops later e-mails.
    late = firm[7]
    real = sending._send_batch
    calls = []

    def opt_out_after_first(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            set_consent(admin, late, channel="email", status="refused", source="phone")
        return real(*args, **kwargs)

    monkeypatch.setattr(sending, "_send_batch", opt_out_after_first)
    job = sending.start_bulk_send(
        marketing, [[c.pk, None] for c in firm], subject="{{ name }}, news",
        body="Dear {{ name }}, your {{ offer }}.", origin="campaign", origin_id=3,
        builder="tests.marketing.test_bulk_send.extra_context")
    assert run_pending() == 1
    job = jobs.get(job.pk)
    assert job.status == "done", job.error
    assert job.result == {"sent": 9, "counts": {"sent": 9, "refused": 1, "no_consent": 2},
                          "out_of_scope": 0}
    assert (job.done, job.total) == (12, 12)
    first = next(m for m in mail.outbox if m.to == ["c0@example.com"])
    assert first.subject == "客户0, news"
    assert f"your offer-{firm[0].pk}." in first.body and "/unsubscribe/" in first.body
    assert "c7@example.com" not in {m.to[0] for m in mail.outbox}
    assert MarketingSend.objects.filter(origin="campaign", origin_id=3).count() == 12


@pytest.mark.django_db
def test_a_bulk_send_refuses_a_broken_template_or_nobody(users, customers):
    with pytest.raises(ServiceError, match="subject"):
        sending.start_bulk_send(users["marketing1"], [[customers["east"].pk, None]],
                                subject="{% if %}", body="x", origin="mailing")
    with pytest.raises(ServiceError):
        sending.start_bulk_send(users["marketing1"], [], subject="x", body="x",
                                origin="mailing")


@pytest.mark.django_db
def test_customer_exports_carry_the_consent_columns(users, customers, tmp_path):
    from kehu.dataio.exports.services import export

    set_consent(users["admin"], customers["east"], channel="email", status="given",
                source="form")
    set_consent(users["admin"], customers["east"], channel="personalisation",
                status="refused", source="phone")
    out = tmp_path / "customers.csv"
    export(users["marketing1"], "customers", "csv", out)
    rows = {r["name"]: r for r in csv.DictReader(out.open(encoding="utf-8-sig"))}
    east = rows[customers["east"].name]
    assert (east["consent: E-mail"], east["consent: Personalisation"],
            east["consent: SMS"]) == ("Given", "Refused", "")
    assert Consent.objects.count() == 2
