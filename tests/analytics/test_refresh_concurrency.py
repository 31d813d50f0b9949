"""A value refresh takes minutes on a large base; customers are deleted, merged and erased
meanwhile. The refresh completes, writes nothing for customers that are gone, leaves those
created meanwhile to the next refresh, and keeps what a merge or a person set meanwhile."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection

from kehu.analytics.models import CustomerValue, CustomerValueSnapshot, Referral
from kehu.analytics.refresh import _Refresh, refresh_values
from kehu.audit.models import AuditEvent
from kehu.customers.models import Customer, LifecycleState, LifecycleTransition, Transaction
from kehu.sales.models import Activity

from .test_refresh import AS_OF, firm  # noqa: F401

pytestmark = pytest.mark.usefixtures("committed_db")


@pytest.fixture
def officer(users):
    users["admin"].privacy_officer = True
    users["admin"].save()
    return users["admin"]


def _after(monkeypatch, name: str, change) -> None:
    """Run `change()` right after the refresh's step `name`, the first time it runs."""
    original = getattr(_Refresh, name)
    pending = [change]

    def step_then_change(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        while pending:
            pending.pop()()
        return out

    monkeypatch.setattr(_Refresh, name, step_then_change)


def _scored(pk: int) -> bool:
    return CustomerValue.objects.filter(customer_id=pk).exists() or \
        CustomerValueSnapshot.objects.filter(customer_id=pk).exists()


def test_customers_gone_between_the_read_and_the_write_are_skipped(firm, users, officer,  # noqa: F811
                                                                  monkeypatch):
    from kehu.customers.services import delete_customer
    from kehu.dataio.privacy.services import erase_customer
    from kehu.dataio.quality.merge import merge_customers

    admin = users["admin"]
    prospect, refused, kept = firm["prospect"], firm["refused"], firm["sims"][0]

    def meanwhile():
        delete_customer(admin, Customer.objects.get(pk=prospect.pk))
        # The survivor takes the merged customer's state by hand: non-customer, which
        # behaviour does not override.
        survivor = Customer.objects.get(pk=kept.pk)
        loser = Customer.objects.get(pk=refused.pk)
        merge_customers(admin, survivor, loser, take_from_loser=["lifecycle_state", "city"],
                        survivor_version=survivor.version, loser_version=loser.version)
        erase_customer(officer, Customer.objects.get(pk=firm["b"].pk), reference="REQ-1")

    _after(monkeypatch, "replay", meanwhile)  # the last step before the write
    run = refresh_values(admin, as_of=AS_OF)

    assert run.status == "done" and run.customers == 155 - 2
    assert not _scored(prospect.pk) and not _scored(refused.pk)
    assert not LifecycleTransition.objects.filter(customer_id__in=[prospect.pk, refused.pk]
                                                  ).exists()
    survivor = Customer.objects.get(pk=kept.pk)
    assert survivor.lifecycle_state == LifecycleState.NON_CUSTOMER
    assert CustomerValue.objects.filter(customer=survivor).exists()
    # The merged customer's purchases are the survivor's now, scored at the next refresh.
    assert Transaction.objects.filter(customer=survivor).count() > 1
    erased = Customer.objects.get(pk=firm["b"].pk)
    assert erased.name.startswith("Erased customer")
    assert CustomerValue.objects.filter(customer=erased).exists()  # figures stay
    ranks = sorted(CustomerValue.objects.values_list("value_rank", flat=True))
    assert ranks == list(range(1, 154))
    audit = AuditEvent.objects.get(action="value.refresh")
    assert audit.detail["customers"] == 153 and audit.detail["skipped"] == 2


def test_a_customer_created_while_it_reads_waits_for_the_next_refresh(firm, users,  # noqa: F811
                                                                      monkeypatch):
    from kehu.customers.services import create_customer, create_transaction

    admin = users["admin"]
    created = {}

    def meanwhile():
        new = create_customer(admin, {"name": "Newcomer"}, owner=users["sales1"])
        create_transaction(admin, new, date=AS_OF - dt.timedelta(days=3), amount="70.00")
        create_transaction(admin, new, date=AS_OF - dt.timedelta(days=1), amount="90.00")
        Referral.objects.create(referrer=new, referred=firm["prospect"],
                                referred_on=AS_OF)
        created["pk"] = new.pk

    _after(monkeypatch, "read_base", meanwhile)  # before the transactions are read
    run = refresh_values(admin, as_of=AS_OF)
    assert run.status == "done" and run.customers == 155
    assert not _scored(created["pk"])
    assert Customer.objects.get(pk=created["pk"]).lifecycle_state == LifecycleState.POTENTIAL
    # No one else took over its purchases or its referral.
    assert CustomerValue.objects.get(customer=firm["prospect"]).purchase_days == 0
    assert CustomerValue.objects.get(customer=firm["a"]).revenue == Decimal("130.00")
    assert refresh_values(admin, as_of=AS_OF).customers == 156
    assert CustomerValue.objects.get(customer_id=created["pk"]).purchase_days == 2


@pytest.mark.parametrize("action", ["delete", "merge", "erase"])
def test_a_change_during_the_write_waits_for_it_and_loses_nothing(firm, users, officer,  # noqa: F811
                                                                  monkeypatch, action):
    """Another user's deletion, merge or erasure that comes while the refresh writes (from a
    thread with its own connection, as a request would) waits for the refresh's commit, then
    goes through in full: neither side fails."""
    from kehu.customers.services import delete_customer
    from kehu.dataio.privacy.services import erase_customer
    from kehu.dataio.quality.merge import merge_customers

    admin = users["admin"]
    prospect, kept = firm["prospect"], firm["sims"][0]
    outcome: dict = {}

    def change():
        try:
            if action == "delete":
                delete_customer(admin, Customer.objects.get(pk=prospect.pk))
            elif action == "merge":
                # Without versions: the refresh changes the survivor's derived state (and so
                # its version) under the merge, which a user's merge would be refused for.
                survivor, loser = (Customer.objects.get(pk=pk) for pk in (kept.pk, prospect.pk))
                merge_customers(admin, survivor, loser, survivor_version=None,
                                loser_version=None)
            else:
                erase_customer(officer, Customer.objects.get(pk=prospect.pk))
            outcome["done"] = True
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            outcome["error"] = exc
        finally:
            connection.close()

    def start_changing():
        thread = threading.Thread(target=change)
        thread.start()
        thread.join(timeout=1.0)
        outcome["waited"] = thread.is_alive()
        outcome["thread"] = thread

    _after(monkeypatch, "still_present", start_changing)  # inside the write transaction
    run = refresh_values(admin, as_of=AS_OF)
    outcome["thread"].join(timeout=60)
    assert run.status == "done" and run.customers == 155
    assert outcome.get("done"), outcome.get("error")
    assert outcome["waited"], "the change went ahead of the refresh's write"
    if action == "erase":
        assert Customer.objects.get(pk=prospect.pk).name.startswith("Erased customer")
        assert CustomerValue.objects.filter(customer_id=prospect.pk).exists()
    else:
        assert not Customer.objects.filter(pk=prospect.pk).exists()
        assert not _scored(prospect.pk)
        assert not Activity.objects.filter(customer_id=prospect.pk).exists()
    assert CustomerValue.objects.count() == (155 if action == "erase" else 154)


class _Progress:
    """A job's progress that runs `after_batch()` once the first batch of scores is written."""

    def __init__(self, after_batch):
        self.after_batch = after_batch
        self.batches = 0

    def report(self, done, total, message):
        if message.startswith("Writing scores:"):
            self.batches += 1
            if self.batches == 1:
                self.after_batch()


def test_people_keep_saving_cards_while_the_refresh_writes(firm, users, settings):  # noqa: F811
    """The scores are written a batch of customers at a time, each batch in a short
    transaction of its own: a card saved from another connection between two batches goes
    through at once (on SQLite the refresh does not hold the one write lock throughout), and
    the refresh then writes the later batches around the saved card."""
    from kehu.customers.services import update_customer

    settings.KEHU_REFRESH_WRITE_BATCH = 40  # 155 customers: four batches
    admin = users["admin"]
    edited = firm["sims"][-1]  # in the last batch: not written yet when the card is saved
    outcome: dict = {}

    def save():
        try:
            card = Customer.objects.get(pk=edited.pk)
            update_customer(admin, card, {"city": "Hangzhou"}, expected_version=card.version)
            outcome["saved"] = True
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            outcome["error"] = exc
        finally:
            connection.close()

    def save_meanwhile():
        thread = threading.Thread(target=save)
        thread.start()
        thread.join(timeout=5)
        outcome["waited"] = thread.is_alive()
        thread.join(timeout=60)

    progress = _Progress(save_meanwhile)
    run = refresh_values(admin, progress, as_of=AS_OF)

    assert progress.batches == 4
    assert not outcome["waited"], "the save waited for the refresh"
    assert outcome.get("saved"), outcome.get("error")
    assert run.status == "done" and run.customers == 155
    assert 0 < run.longest_write < 5
    card = Customer.objects.get(pk=edited.pk)
    assert card.city == "Hangzhou"
    assert CustomerValue.objects.get(customer=card).refresh_id == run.pk
    assert CustomerValue.objects.filter(refresh=run).count() == 155
    assert sorted(CustomerValue.objects.values_list("value_rank", flat=True)) == \
        list(range(1, 156))


def test_a_refresh_that_fails_while_writing_leaves_each_customer_whole(firm, users,  # noqa: F811
                                                                      settings, monkeypatch):
    """A failure between two batches leaves the batches written standing and the rest with
    the last refresh's scores — never a customer without scores or with half of them — and
    says so on the failed run."""
    import kehu.analytics.refresh as refresh_module
    from kehu.analytics.models import ValueRefresh

    admin = users["admin"]
    first = refresh_values(admin, as_of=AS_OF - dt.timedelta(days=30))
    settings.KEHU_REFRESH_WRITE_BATCH = 40
    original = refresh_module.write_rows
    calls = {"n": 0}

    def failing(table, *args, **kwargs):
        if table == CustomerValue._meta.db_table:
            calls["n"] += 1
            if calls["n"] == 3:
                raise RuntimeError("disk full")
        return original(table, *args, **kwargs)

    copy = refresh_module.copy_columns

    def failing_copy(model, *args, **kwargs):  # PostgreSQL's path for the scores
        if model is CustomerValue:
            calls["n"] += 1
            if calls["n"] == 3:
                raise RuntimeError("disk full")
        return copy(model, *args, **kwargs)

    monkeypatch.setattr(refresh_module, "write_rows", failing)
    monkeypatch.setattr(refresh_module, "copy_columns", failing_copy)
    with pytest.raises(RuntimeError):
        refresh_values(admin, as_of=AS_OF)

    failed = ValueRefresh.objects.exclude(pk=first.pk).get()
    assert failed.status == "failed"
    assert "disk full" in failed.error and "80 customers" in failed.error
    by_run = dict(CustomerValue.objects.values_list("customer_id", "refresh_id"))
    assert len(by_run) == 155  # every customer keeps scores
    assert sorted(set(by_run.values())) == [first.pk, failed.pk]
    assert list(by_run.values()).count(failed.pk) == 80
    # The batch that failed was undone whole: its customers keep the earlier scores and
    # state history.
    assert CustomerValueSnapshot.objects.filter(refresh=failed).count() == 80
