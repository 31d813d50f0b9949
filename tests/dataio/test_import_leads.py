"""Importing leads: Chinese and English headings, the MAN judgements and their tasks, all or
nothing with each problem by line and column, undo."""

from __future__ import annotations

import pytest

from kehu.dataio.imports.services import import_file, undo_batch
from kehu.sales.leads.models import Lead
from kehu.tasks.models import Task

pytestmark = pytest.mark.django_db


def _csv(tmp_path, text, name="leads.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_a_chinese_lead_file_imports_with_its_judgements_and_tasks(tmp_path, users, customers):
    text = ("线索名称,来源,推荐人,联系人,手机,购买力,决策权,需求,行业,地区\n"
            f"宁波海天机械,推荐,{customers['east'].name},陈经理,13900000011,是,否,是,机械,浙江\n"
            "厦门云商,展会,,林总,,是,是,是,电商,福建\n"
            "青岛小作坊,网站,,,,否,否,否,,\n")
    report = import_file(users["sales1"], "leads", _csv(tmp_path, text))
    assert report.ok, [(e.line, e.column, e.message) for e in report.errors]
    leads = {x.name: x for x in Lead.objects.all()}
    assert (leads["宁波海天机械"].man, leads["宁波海天机械"].action) == ("M+a+N", "find_authority")
    assert leads["宁波海天机械"].referrer == customers["east"]
    assert leads["厦门云商"].action == "pursue" and leads["青岛小作坊"].action == "stop"
    assert all(x.owner == users["sales1"] for x in leads.values())
    assert Task.objects.filter(lead__in=leads.values(), status="open").count() == 2
    undo_batch(users["sales1"], report.batch_id)
    assert not Lead.objects.exists() and not Task.objects.filter(lead__isnull=False).exists()


def test_english_headings_map_too(tmp_path, users):
    text = ("Name,Source,Contact name,Money,Authority,Need\n"
            "Acme Ltd.,exhibition,Ann Lee,yes,no,no\n")
    report = import_file(users["sales1"], "leads", _csv(tmp_path, text))
    assert report.ok, [(e.line, e.column, e.message) for e in report.errors]
    assert Lead.objects.get().man == "M+a+n"


def test_one_bad_lead_writes_nothing_and_each_problem_is_named(tmp_path, users, customers):
    text = ("线索名称,来源,推荐人,购买力,邮箱\n"
            "甲公司,展会,,是,a@b.cn\n"
            ",外星,,也许,not-an-email\n"
            f"乙公司,推荐,{customers['north'].name},,\n"
            "丙公司,推荐,,,\n")
    report = import_file(users["sales1"], "leads", _csv(tmp_path, text))
    assert not report.ok
    found = {(e.line, e.column): e.message for e in report.errors}
    assert "required" in found[(3, "线索名称")]
    assert "not one of" in found[(3, "来源")]
    assert (3, "购买力") in found and (3, "邮箱") in found
    assert "Unknown customer" in found[(4, "推荐人")]  # sales2's customer: out of scope
    assert "referral names the customer" in found[(5, "推荐人")] or \
        "referral names the customer" in found.get((5, "来源"), "")
    assert not Lead.objects.exists()


def test_service_staff_may_not_import_leads(tmp_path, users):
    report = import_file(users["service1"], "leads",
                         _csv(tmp_path, "线索名称,来源\n甲,展会\n"))
    assert not report.ok and not Lead.objects.exists()
