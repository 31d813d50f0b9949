"""Personal data rights: the data-subject export holds everything, erasure leaves nothing
that identifies the person (history tables, search keys, audit details included) but keeps
the transactions' figures; both per role."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from kehu.audit.models import AuditEvent
from kehu.core.errors import NotPermitted
from kehu.customers.models import Contact, Customer, Transaction
from kehu.customers.services import (
    change_owner,
    create_contact,
    create_customer,
    create_transaction,
    update_contact,
    update_customer,
)
from kehu.dataio.models import ContactKey, CustomerKey, CustomerPair, ImportedUpdate
from kehu.dataio.privacy import services as privacy
from kehu.dataio.quality import dedup
from kehu.dataio.quality.merge import reverse_relations
from kehu.loans.models import Loan
from kehu.loans.services import request_loan
from kehu.sales.models import Activity
from kehu.sales.services import log_activity

pytestmark = pytest.mark.django_db

NAME, PHONE, EMAIL = "李小红", "13912345678", "xiaohong@example.cn"
CONTACT, CONTACT_PHONE = "李大明", "13700001111"
# Everything that identifies the person, as it may appear anywhere in the database.
TRACES = (NAME, PHONE, EMAIL, CONTACT, CONTACT_PHONE, "lixiaohong", "华山路 8 号", "ERP-77",
          "爱好书法", "老客户介绍")


@pytest.fixture
def officer(users):
    user = users["sales2"]  # team North: the person is in team East, out of sales2's reach
    user.privacy_officer = True
    user.save()
    return user


@pytest.fixture
def person(users, tmp_path):
    """A private customer with a history of changes, contacts, orders, activities, audit."""
    admin = users["admin"]
    c = create_customer(admin, {"kind": "person", "name": NAME, "mobile": PHONE,
                                "email": EMAIL, "address": "华山路 8 号", "city": "上海",
                                "external_id": "ERP-77", "legal_rep_interests": "爱好书法"},
                        owner=users["sales1"])
    c = update_customer(admin, c, {"phone": "021-1234-5678", "problems": "老客户介绍"},
                        expected_version=1)
    c = change_owner(admin, c, users["sales1b"], reason=f"{NAME} 要求换人")
    contact = create_contact(admin, c, {"name": CONTACT, "phone": CONTACT_PHONE,
                                        "personal_interests": "钓鱼"})
    update_contact(admin, contact, {"title": "经理"}, expected_version=1)
    create_transaction(admin, c, date=datetime.date(2024, 3, 1), amount="1200.50",
                       cost="700", number="SO-1", notes=f"送货给{NAME}",
                       lines=[{"description": f"{NAME} 定制", "quantity": "1",
                               "unit_price": "1200.50", "unit_cost": "700"}])
    log_activity(admin, c, kind="call", subject=f"回访{NAME}", body=f"电话 {PHONE}",
                 contact=contact)
    # Someone of another team asked to borrow the file, naming the person (kehu.loans).
    request_loan(users["manager2"], "ERP-77", f"{NAME} 来电问订单")
    twin = create_customer(admin, {"name": NAME, "mobile": PHONE}, owner=users["sales1"])
    dedup.scan()
    assert CustomerPair.objects.filter(b=twin).exists()
    ImportedUpdate.objects.create(batch_id=_batch(admin).pk, model="customers.customer",
                                  object_id=c.pk, previous={"name": NAME, "mobile": PHONE})
    return Customer.objects.get(pk=c.pk)


def _batch(user):
    from kehu.dataio.models import ImportBatch

    return ImportBatch.objects.create(kind="customers", file_name="x.csv", created_by=user)


def _everything(customer_pk: int) -> str:
    """Every row about the customer in every table that can hold personal data, as text."""
    rows = [Customer.objects.filter(pk=customer_pk).values().first(),
            *Customer.history.filter(id=customer_pk).values(),
            *Contact.objects.filter(customer_id=customer_pk).values(),
            *Contact.history.filter(customer_id=customer_pk).values(),
            *Transaction.objects.filter(customer_id=customer_pk).values(),
            *Activity.objects.filter(customer_id=customer_pk).values(),
            *AuditEvent.objects.filter(customer_id=customer_pk).values(),
            *CustomerKey.objects.filter(customer_id=customer_pk).values(),
            *ImportedUpdate.objects.filter(object_id=customer_pk).values(),
            *Loan.objects.filter(customer_id=customer_pk).values()]
    from kehu.customers.models import LifecycleTransition, OwnerAssignment, TransactionLine

    rows += [*TransactionLine.objects.filter(transaction__customer_id=customer_pk).values(),
             *OwnerAssignment.objects.filter(customer_id=customer_pk).values(),
             *LifecycleTransition.objects.filter(customer_id=customer_pk).values()]
    return json.dumps(rows, default=str, ensure_ascii=False)


@pytest.mark.parametrize("role", ["admin", "manager1", "sales1", "service1", "analyst1"])
def test_only_privacy_officers_export_or_erase(person, users, role):
    assert not users[role].is_privacy_officer
    with pytest.raises(NotPermitted):
        privacy.export_customer(users[role], person)
    with pytest.raises(NotPermitted):
        privacy.erase_customer(users[role], person)
    assert Customer.objects.get(pk=person.pk).name == NAME


def test_a_superuser_is_a_privacy_officer(users):
    users["admin"].is_superuser = True
    assert users["admin"].is_privacy_officer
    users["admin"].is_active = False
    assert not users["admin"].is_privacy_officer


def test_the_export_holds_everything_about_the_person(person, officer):
    document = privacy.export_customer(officer, person)
    text = json.dumps(document, ensure_ascii=False)
    for trace in TRACES:
        assert trace in text, trace
    assert document["customer"]["legal_rep_interests"] == "爱好书法"  # sensitive tier too
    assert document["customer"]["owner"] == "sales1b"
    related = document["related"]
    assert {c["name"] for c in related["customers.contact"]} == {CONTACT}
    assert related["customers.transaction"][0]["amount"] == "1200.50"
    assert related["customers.transactionline"][0]["description"] == f"{NAME} 定制"
    assert related["sales.activity"][0]["subject"] == f"回访{NAME}"
    assert len(related["customers.ownerassignment"]) == 2
    assert len(document["history"]["customer"]) == 3
    assert len(document["history"]["contacts"]) == 2
    assert {"customer.create", "customer.update", "contact.create"} <= {
        e["action"] for e in document["audit"]}
    event = AuditEvent.objects.get(action="privacy.export")
    assert (event.username, event.customer_id) == ("sales2", person.pk)


def test_erasure_leaves_no_trace_and_keeps_the_figures(person, officer):
    assert all(t in _everything(person.pk) for t in TRACES if t != "lixiaohong")
    counts = privacy.erase_customer(officer, person, reference="REQ-2024-7")
    left = _everything(person.pk)
    for trace in TRACES:
        assert trace not in left, trace
    erased = Customer.objects.get(pk=person.pk)
    assert erased.name == f"Erased customer {person.pk}"
    assert (erased.kind, erased.city, erased.owner_id) == ("person", "上海", person.owner_id)
    assert erased.search_text == f"erased customer {person.pk}"
    txn = Transaction.objects.get(customer=erased)
    assert (txn.amount, txn.cost, txn.date) == (Decimal("1200.50"), Decimal("700"),
                                                datetime.date(2024, 3, 1))
    assert Contact.objects.get(customer=erased).name.startswith("Erased contact")
    assert not CustomerKey.objects.filter(customer=erased).exists()
    assert not ContactKey.objects.filter(contact__customer=erased).exists()
    assert not CustomerPair.objects.filter(a=erased).exists()
    assert counts["audit"] >= 5
    # The erasure itself is on record: who, when, which request — not the person.
    event = AuditEvent.objects.get(action="privacy.erase")
    assert (event.username, event.customer_id, event.detail["reference"]) == (
        "sales2", person.pk, "REQ-2024-7")
    # After erasure, a data-subject export finds nothing of the person either.
    text = json.dumps(privacy.export_customer(officer, erased), ensure_ascii=False)
    assert not any(t in text for t in TRACES)


def test_one_contact_can_be_erased_alone(person, officer):
    contact = Contact.objects.get(customer=person)
    privacy.erase_contact(officer, contact, reference="REQ-8")
    contact.refresh_from_db()
    assert CONTACT not in contact.name and contact.phone == "" and contact.personal_interests == ""
    assert not contact.history.filter(name=CONTACT).exists()
    assert Activity.objects.get(contact=contact).subject == "(erased)"
    assert Customer.objects.get(pk=person.pk).name == NAME  # the customer is untouched


def test_every_model_about_a_person_says_what_to_erase():
    """A model added later that points at customers or contacts must be listed in
    privacy.ERASE (its identifying fields, possibly none) or privacy.DERIVED."""
    seen, todo, missing = set(), [Customer, Contact], []
    while todo:
        model = todo.pop()
        for rel in reverse_relations(model):
            label = rel.related_model._meta.label_lower
            if label in seen:
                continue
            seen.add(label)
            if label not in privacy.ERASE and label not in privacy.DERIVED:
                missing.append(label)
            if label in privacy.ERASE:
                todo.append(rel.related_model)
    assert not missing, f"add these to kehu.dataio.privacy.services.ERASE or DERIVED: {missing}"


def test_the_privacy_pages_per_role(person, officer, users):
    for role in ("admin", "manager1", "sales1"):
        client = Client()
        client.force_login(users[role])
        assert client.get(reverse("dataio:privacy")).status_code == 404
        assert client.get(reverse("dataio:privacy_customer_export", args=[person.pk])
                          ).status_code == 404
        assert client.post(reverse("dataio:privacy_customer_erase", args=[person.pk]),
                           {"confirm": "1"}).status_code == 404
        card = client.get(reverse("customers:card", args=[person.pk]))
        assert "Personal data" not in card.content.decode()
    client = Client()
    client.force_login(officer)
    page = client.get(reverse("dataio:privacy"), {"q": PHONE}).content.decode()
    assert reverse("dataio:privacy_customer", args=[person.pk]) in page
    page = client.get(reverse("dataio:privacy"), {"q": CONTACT}).content.decode()
    assert CONTACT in page
    client.get(reverse("dataio:privacy_customer", args=[person.pk]))
    assert AuditEvent.objects.filter(action="customer.view", username="sales2",
                                     customer_id=person.pk).exists()
    response = client.get(reverse("dataio:privacy_customer_export", args=[person.pk]))
    assert response["Content-Disposition"].startswith("attachment")
    assert json.loads(response.content)["customer"]["name"] == NAME
    # Without the confirmation box nothing happens.
    client.post(reverse("dataio:privacy_customer_erase", args=[person.pk]))
    assert Customer.objects.get(pk=person.pk).name == NAME
    response = client.post(reverse("dataio:privacy_customer_erase", args=[person.pk]),
                           {"confirm": "1", "reference": "REQ-1"}, follow=True)
    assert "has been erased" in response.content.decode()
    assert Customer.objects.get(pk=person.pk).name != NAME
