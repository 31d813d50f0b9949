"""Service hours, holidays, targets and service groups: what administrators and managers set,
what everyone reads, and the clock built from them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from kehu.audit.models import AuditEvent
from kehu.core.errors import NotPermitted, ServiceError, StaleVersion
from kehu.customers.services import create_customer
from kehu.service.sla import services
from kehu.service.sla.calendar import Targets, load_calendar
from kehu.service.sla.clock import due
from kehu.service.sla.groups import Source, group_of
from kehu.service.sla.models import ServiceHours, SlaTarget, WorkingPeriod

pytestmark = pytest.mark.django_db
SH = dt.timezone(dt.timedelta(hours=8))


def test_a_new_firm_has_a_working_week_and_targets_for_every_group_and_priority():
    cal = load_calendar()
    assert cal.time_zone == "Asia/Shanghai"
    # Monday 09:00 + 10 working hours = Tuesday 10:00; Saturday 11:00 + 2 h = Monday 10:00.
    assert due(cal, dt.datetime(2026, 12, 7, 9, tzinfo=SH), dt.timedelta(hours=10)) == \
        dt.datetime(2026, 12, 8, 10, tzinfo=SH)
    assert due(cal, dt.datetime(2026, 12, 12, 11, tzinfo=SH), dt.timedelta(hours=2)) == \
        dt.datetime(2026, 12, 14, 10, tzinfo=SH)
    targets = Targets()
    for group in ("large", "sme", "household"):
        for priority in ("urgent", "high", "normal", "low"):
            assert targets.budget(group, "", priority) is not None
    # The invest segment is answered faster than the row for every segment.
    assert targets.budget("large", "invest", "urgent").first_response < \
        targets.budget("large", "develop", "urgent").first_response
    assert targets.budget("large", "develop", "urgent").segment == ""


def test_an_admin_sets_the_week_and_the_clock_follows(users):
    hours = ServiceHours.objects.get()
    services.update_service_hours(
        users["admin"], time_zone="Europe/Berlin", warn_percent=10, makeup_as=2,
        periods=[(0, dt.time(22), dt.time(6))], expected_version=hours.version)
    cal = load_calendar()
    assert cal.time_zone == "Europe/Berlin" and cal.makeup_as == 2
    berlin = dt.timezone(dt.timedelta(hours=1))
    # Only Monday night: a budget of 8 h opened on a Tuesday is due next Tuesday 06:00.
    assert due(cal, dt.datetime(2026, 12, 8, 12, tzinfo=berlin), dt.timedelta(hours=8)) == \
        dt.datetime(2026, 12, 15, 6, tzinfo=berlin)
    assert AuditEvent.objects.filter(action="sla.hours").exists()
    with pytest.raises(StaleVersion):
        services.update_service_hours(users["admin"], time_zone="UTC", warn_percent=10,
                                      makeup_as=0, periods=[(0, dt.time(9), dt.time(17))],
                                      expected_version=hours.version)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"time_zone": "Mars/Olympus"}, "is not a time zone"),
    ({"warn_percent": 95}, "between 1 % and 90 %"),
    ({"periods": []}, "at least one working period"),
    ({"periods": [(1, dt.time(9), dt.time(9))]}, "is empty"),
])
def test_bad_service_hours_are_refused_with_the_reason(users, kwargs, message):
    args = {"time_zone": "Asia/Shanghai", "warn_percent": 25, "makeup_as": 0,
            "periods": [(0, dt.time(9), dt.time(18))], **kwargs}
    with pytest.raises(ServiceError, match=message):
        services.update_service_hours(users["admin"], **args)
    assert WorkingPeriod.objects.count() == 6  # unchanged defaults


def test_only_admins_change_the_service_levels(users):
    for role in ("manager1", "service1", "sales1"):
        with pytest.raises(NotPermitted):
            services.save_holiday(users[role], day=dt.date(2026, 10, 1), kind="holiday",
                                  name_en="National Day")
        with pytest.raises(NotPermitted):
            services.save_targets(users[role], "sme", {})


def test_holidays_and_makeup_days_shape_the_clock(users):
    admin = users["admin"]
    services.save_holiday(admin, day=dt.date(2026, 10, 1), kind="holiday", name_zh="国庆节")
    services.save_holiday(admin, day=dt.date(2026, 10, 11), kind="makeup",
                          name_en="Make-up day")
    cal = load_calendar()
    # Wednesday 30 Sept 17:00 + 2 h: 1 h that day, Thursday is a holiday, Friday 10:00.
    assert due(cal, dt.datetime(2026, 9, 30, 17, tzinfo=SH), dt.timedelta(hours=2)) == \
        dt.datetime(2026, 10, 2, 10, tzinfo=SH)
    # Saturday 10 Oct 11:00 + 3 h: 1 h of Saturday morning, Sunday 11 Oct worked 09:00–.
    assert due(cal, dt.datetime(2026, 10, 10, 11, tzinfo=SH), dt.timedelta(hours=3)) == \
        dt.datetime(2026, 10, 11, 11, tzinfo=SH)
    with pytest.raises(ServiceError, match="name"):
        services.save_holiday(admin, day=dt.date(2026, 10, 2), kind="holiday")


def test_targets_are_saved_per_group_and_checked(users):
    admin = users["admin"]
    cells = {("", p): (Decimal("1"), Decimal("8")) for p in ("urgent", "high", "normal", "low")}
    cells[("invest", "urgent")] = (Decimal("0.25"), Decimal("2"))
    assert services.save_targets(admin, "household", cells) == 5
    budget = Targets().budget("household", "invest", "urgent")
    assert (budget.first_response, budget.resolution) == (dt.timedelta(minutes=15),
                                                          dt.timedelta(hours=2))
    assert Targets().budget("household", "minimise", "low").resolution == dt.timedelta(hours=8)
    cells[("", "low")] = (Decimal("8"), Decimal("2"))
    with pytest.raises(ServiceError, match="resolved before it is first answered") as e:
        services.save_targets(admin, "household", cells)
    assert e.value.field == "any_low_resolve"
    cells[("", "low")] = None
    with pytest.raises(ServiceError, match="needs a target for all segments"):
        services.save_targets(admin, "household", cells)
    assert SlaTarget.objects.filter(service_group="household").count() == 5


def test_a_customer_falls_into_a_group_by_the_rule_and_a_manager_may_decide_otherwise(
        users, customers):
    admin = users["admin"]
    person = create_customer(admin, {"name": "王小明", "kind": "person"}, owner=users["sales1"])
    big = create_customer(admin, {"name": "Big Corp", "size": "large"}, owner=users["sales1"])
    unknown = create_customer(admin, {"name": "No size", "service_group": "large"},
                              owner=users["sales1"])
    assert group_of(person).group == "household" and group_of(person).source == Source.RULE
    assert group_of(big).group == "large"
    assert (group_of(unknown).group, group_of(unknown).source) == ("large", Source.CARD)
    with pytest.raises(ServiceError, match="Say why"):
        services.decide_service_group(users["manager1"], person, service_group="sme", reason="")
    services.decide_service_group(users["manager1"], person, service_group="sme",
                                  reason="Runs a shop from home")
    decided = group_of(person)
    assert (decided.group, decided.source, decided.reason, decided.by) == (
        "sme", Source.DECIDED, "Runs a shop from home", "manager1")
    services.decide_service_group(admin, person, service_group="", reason="")
    assert group_of(person).group == "household"
    # Not the other team's manager, not service or sales staff.
    for role in ("manager2", "service1", "sales1"):
        with pytest.raises(NotPermitted):
            services.decide_service_group(users[role], person, service_group="large",
                                          reason="x")


def test_the_pages_in_both_languages(client, users, customers):
    client.force_login(users["service1"])
    page = client.get(reverse("service:sla_targets")).content.decode()
    assert "Large enterprise" in page and "A named service team" in page
    # Read-only for service staff: the hours are shown, not offered as inputs.
    assert 'name="large-any_urgent_first"' not in page and ">0.5</td>" in page
    assert client.post(reverse("service:sla_targets"), {"group": "sme"}).status_code == 403
    client.force_login(users["admin"])
    client.post(reverse("set_language"), {"language": "zh-hans"})
    page = client.get(reverse("service:sla_hours")).content.decode()
    assert "服务时间" in page and "星期一" in page
    response = client.post(reverse("service:sla_hours"), {
        "time_zone": "Nowhere/Town", "warn_percent": "25", "makeup_as": "0",
        "d0_0_start": "09:00", "d0_0_end": "18:00", "d1_0_start": "09:00"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "Nowhere/Town" in text and "开始和结束" in text
    page = client.get(reverse("service:sla_targets")).content.decode()
    assert 'name="large-any_urgent_first"' in page and "专属服务团队" in page
    customer = customers["east"]
    response = client.post(reverse("service:sla_customer_group", args=[customer.pk]),
                           {"service_group": "large", "reason": ""})
    assert response.status_code == 400 and "请说明" in response.content.decode()
    client.post(reverse("service:sla_customer_group", args=[customer.pk]),
                {"service_group": "large", "reason": "集团采购"})
    card = client.get(reverse("customers:card", args=[customer.pk])).content.decode()
    assert "大型企业" in card and "集团采购" in card and "不按规则" in card


def test_a_mangled_version_on_the_hours_page_is_refused_not_a_crash(client, users):
    client.force_login(users["admin"])
    response = client.post(reverse("service:sla_hours"), {
        "time_zone": "Asia/Shanghai", "warn_percent": "25", "makeup_as": "0",
        "d0_0_start": "09:00", "d0_0_end": "18:00", "version": "1x"})
    assert response.status_code == 400
    assert "carries no version kehu can read" in response.content.decode()
