import pytest
from django.db import DatabaseError, transaction

from kehu.audit.models import AppendOnlyError, AuditEvent
from kehu.audit.services import record


@pytest.mark.django_db
def test_the_audit_log_cannot_be_changed_or_deleted(users):
    event = record(users["admin"], "customer.view", customer_id=1)
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    # Not even by a bulk query that bypasses the model.
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "customer.view"


@pytest.mark.django_db
def test_only_the_details_may_be_redacted_and_only_to_the_marker(users):
    event = record(users["admin"], "customer.update", customer_id=1,
                   detail={"changes": {"phone": ["13800138000", "13900139000"]}})
    events = AuditEvent.objects.filter(pk=event.pk)
    with pytest.raises(DatabaseError), transaction.atomic():
        events.update(detail={"changes": "something else"})
    with pytest.raises(DatabaseError), transaction.atomic():
        events.update(detail={"redacted": True}, action="customer.view")
    with pytest.raises(DatabaseError), transaction.atomic():
        events.update(detail={"redacted": True}, username="somebody")
    assert events.update(detail={"redacted": True}) == 1
    event = events.get()
    assert (event.detail, event.action, event.username) == ({"redacted": True},
                                                             "customer.update", "admin")
