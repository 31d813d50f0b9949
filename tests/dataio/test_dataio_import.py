"""Importing files through the service: all or nothing, errors by line and column, update
existing, undo, scoping."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from kehu.audit.models import AuditEvent
from kehu.core.errors import NotPermitted, ServiceError
from kehu.customers.models import Customer, LifecycleTransition, OwnerAssignment, Transaction
from kehu.customers.services import update_customer
from kehu.dataio.imports.services import import_file, save_mapping, undo_batch
from kehu.dataio.models import ImportBatch

pytestmark = pytest.mark.django_db


def _csv(tmp_path, text, encoding="utf-8", name="f.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


CUSTOMERS = ("客户编号,客户名称,手机,邮箱,城市,客户性质,负责人\n"
             "K1,上海新星贸易有限公司,+86 139-0000-0001,Info@XinXing.cn,上海,政府机关,sales1\n"
             "K2,杭州远大,13900000002,,杭州,普通公司,\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_it_imports_chinese_customer_files_in_each_encoding(tmp_path, users, encoding):
    report = import_file(users["manager1"], "customers",
                         _csv(tmp_path, CUSTOMERS, encoding), via="cli")
    assert report.ok, report.errors
    assert (report.rows, report.created) == (2, 2)
    k1 = Customer.objects.get(external_id="K1")
    assert (k1.name, k1.email, k1.nature, k1.owner) == (
        "上海新星贸易有限公司", "info@xinxing.cn", "government", users["sales1"])
    assert "13900000001" in k1.search_text and "xinxing" in k1.search_text
    assert k1.name_sort == "shang hai xin xing mao yi you xian gong si"  # pinyin order
    # Without an owner column the importing user owns the customer.
    assert Customer.objects.get(external_id="K2").owner == users["manager1"]
    assert k1.history.count() == 1
    assert OwnerAssignment.objects.filter(customer=k1, owner=users["sales1"]).exists()
    assert LifecycleTransition.objects.get(customer=k1).source == "import"
    event = AuditEvent.objects.get(action="import")
    assert event.detail["rows"] == 2 and event.detail["file"] == "f.csv"
    assert event.username == "manager1"


def test_one_bad_row_in_the_middle_writes_nothing_and_names_every_problem(tmp_path, users,
                                                                          customers):
    rows = ["客户编号,下单日期,金额,单号,类型"]
    rows += [f"EXT-E,2024-01-{d:02d},100,N{d},订单" for d in range(1, 10)]
    rows[5] = "EXT-E,2024-13-45,abc,N5,外星"  # line 6
    rows.append("NOPE,20240102,1,N99,")  # line 11: unknown customer
    rows.append("EXT-E,2024/01/03,5,N1,")  # line 12: duplicate order number
    customers["east"].external_id = "EXT-E"
    customers["east"].save()
    report = import_file(users["sales1"], "transactions",
                         _csv(tmp_path, "\n".join(rows) + "\n"))
    assert not report.ok
    found = {(e.line, e.column): e.message for e in report.errors}
    assert "not a date" in found[(6, "下单日期")]
    assert "not a number" in found[(6, "金额")]
    assert "not one of" in found[(6, "类型")]
    assert "Unknown customer" in found[(11, "客户编号")]
    assert "Duplicate of line 2" in found[(12, "单号")]
    assert len(found) == 5
    assert Transaction.objects.count() == 0
    assert ImportBatch.objects.count() == 0
    assert AuditEvent.objects.filter(action="import.refused").get().detail["errors"] == 5


def test_customer_rows_report_owner_email_length_and_required_problems(tmp_path, users):
    text = ("客户名称,邮箱,负责人,客户编号\n"
            "好公司,ok@example.com,sales1,A\n"
            ",bad@,nobody,B\n"
            f"{'长' * 201},,sales2,C\n")
    report = import_file(users["manager1"], "customers", _csv(tmp_path, text))
    found = {(e.line, e.column): e.message for e in report.errors}
    assert found[(3, "客户名称")] == "This field is required."
    assert "not a valid e-mail" in found[(3, "邮箱")]
    assert "Unknown owner “nobody”" in found[(3, "负责人")]
    assert "Too long: 201 characters, at most 200" in found[(4, "客户名称")]
    # sales2 is in another team: manager1 may not give customers to them.
    assert "may not assign customers to sales2" in found[(4, "负责人")]
    assert Customer.objects.count() == 0


def test_facts_a_card_would_refuse_are_refused_by_the_import_too(tmp_path, users):
    next_year = dt.date.today().year + 1
    text = ("客户名称,成立日期,信用额度\n"
            "好公司,2001-05-01,5000\n"
            f"未来公司,{next_year}-12-31,-1\n")
    report = import_file(users["manager1"], "customers", _csv(tmp_path, text))
    found = {(e.line, e.column): e.message for e in report.errors}
    assert found == {(3, "成立日期"): "Must not be later than today.",
                     (3, "信用额度"): "Must not be negative."}
    assert Customer.objects.count() == 0


def test_a_transactions_file_imported_twice_is_refused_the_second_time(tmp_path, users,
                                                                       customers):
    customers["east"].external_id = "EXT-E"
    customers["east"].save()
    text = ("客户编号,下单日期,金额,单号,类型\n"
            "EXT-E,2024-01-01,100,N1,订单\n"
            "EXT-E,2024-01-02,-20,N1,退货\n"  # a return may carry its order's number
            "EXT-E,2024-01-03,30,,订单\n")    # rows without a number are never duplicates
    first = import_file(users["sales1"], "transactions", _csv(tmp_path, text))
    assert first.ok and first.created == 3
    again = import_file(users["sales1"], "transactions", _csv(tmp_path, text, name="g.csv"))
    assert not again.ok
    found = {(e.line, e.column): e.message for e in again.errors}
    assert set(found) == {(2, "单号"), (3, "单号")}
    assert "Already in kehu" in found[(2, "单号")]
    assert Transaction.objects.count() == 3
    # Another customer may use the same number.
    customers["east_b"].external_id = "EXT-B"
    customers["east_b"].save()
    other = import_file(users["sales1b"], "transactions",
                        _csv(tmp_path, "客户编号,下单日期,金额,单号\nEXT-B,2024-02-01,5,N1\n",
                             name="h.csv"))
    assert other.ok, other.errors


def test_a_missing_required_column_refuses_the_file(tmp_path, users):
    report = import_file(users["admin"], "transactions", _csv(tmp_path, "金额\n1\n"))
    assert not report.ok
    assert any("required field customer" in e.message for e in report.errors)
    assert any("date" in e.message for e in report.errors)


def test_transactions_accept_dates_in_three_forms_and_chinese_kinds(tmp_path, users,
                                                                   customers):
    customers["east"].external_id = "E1"
    customers["east"].save()
    text = ("客户编号\t下单日期\t金额\t成本\t类型\n"
            "E1\t2024-03-05\t1,200.50\t600\t订单\n"
            "E1\t20240306\t99\t\t退货\n"
            "E1\t2024/3/7\t￥10\t5\tinvoice\n")
    report = import_file(users["sales1"], "transactions", _csv(tmp_path, text))
    assert report.ok, report.errors
    got = list(Transaction.objects.order_by("date").values_list("date", "amount", "cost",
                                                                "kind", "created_by"))
    assert [(str(d), a, c, k) for d, a, c, k, _ in got] == [
        ("2024-03-05", Decimal("1200.50"), Decimal("600"), "order"),
        ("2024-03-06", Decimal("-99"), Decimal("0"), "return"),
        ("2024-03-07", Decimal("10"), Decimal("5"), "invoice"),
    ]
    assert {row[4] for row in got} == {users["sales1"].pk}


def test_transactions_of_customers_the_user_may_not_change_are_refused(tmp_path, users,
                                                                      customers):
    customers["north"].external_id = "N1"
    customers["north"].save()
    report = import_file(users["sales1"], "transactions",
                         _csv(tmp_path, "客户编号,日期,金额\nN1,2024-01-01,5\n"))
    assert [(e.line, e.column) for e in report.errors] == [(2, "客户编号")]
    assert "Unknown customer" in report.errors[0].message


def test_xlsx_files_import_like_csv(tmp_path, users):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["客户名称", "手机", "成立日期", "注册资本"])
    wb.active.append(["宁波港口机械", 13800138000, "2001-05-01", 5000000])
    path = tmp_path / "c.xlsx"
    wb.save(path)
    report = import_file(users["admin"], "customers", path)
    assert report.ok, report.errors
    c = Customer.objects.get()
    assert (c.mobile, str(c.founded_on), c.registered_capital) == (
        "13800138000", "2001-05-01", Decimal("5000000"))


def test_without_update_existing_a_known_external_id_is_an_error(tmp_path, users):
    import_file(users["admin"], "customers", _csv(tmp_path, CUSTOMERS))
    report = import_file(users["admin"], "customers", _csv(tmp_path, CUSTOMERS))
    assert [e.line for e in report.errors] == [2, 3]
    assert "update existing" in report.errors[0].message
    assert Customer.objects.count() == 2


def test_update_existing_matches_by_external_id_then_phone_and_can_be_undone(tmp_path, users):
    first = import_file(users["admin"], "customers", _csv(tmp_path, CUSTOMERS))
    k2 = Customer.objects.get(external_id="K2")
    text = ("客户编号,客户名称,手机,城市\n"
            "K1,上海新星贸易有限公司,,苏州\n"       # by external id; empty phone kept
            ",杭州远大,0086 139 0000 0002,宁波\n"   # by normalised phone
            "K3,全新客户,,北京\n")
    report = import_file(users["admin"], "customers", _csv(tmp_path, text, name="u.csv"),
                         update_existing=True)
    assert report.ok, report.errors
    assert (report.created, report.updated) == (1, 2)
    k1 = Customer.objects.get(external_id="K1")
    k2.refresh_from_db()
    assert (k1.city, k1.mobile, k1.version) == ("苏州", "+86 139-0000-0001", 2)
    assert (k2.city, k2.version) == ("宁波", 2)
    assert Customer.objects.count() == 3

    undo_batch(users["admin"], report.batch_id)
    k1.refresh_from_db()
    k2.refresh_from_db()
    assert (k1.city, k2.city) == ("上海", "杭州")
    assert not Customer.objects.filter(external_id="K3").exists()
    assert ImportBatch.objects.get(pk=report.batch_id).status == "undone"
    # The first batch is untouched by undoing the second, and can itself be undone now.
    assert first.batch_id != report.batch_id


def test_undo_is_refused_once_a_row_has_been_changed(tmp_path, users):
    report = import_file(users["sales1"], "customers", _csv(tmp_path, "客户名称\n甲\n乙\n"))
    c = Customer.objects.get(name="甲")
    update_customer(users["sales1"], c, {"city": "南京"}, expected_version=1)
    with pytest.raises(ServiceError, match="changed or added to since it ran"):
        undo_batch(users["sales1"], report.batch_id)
    assert Customer.objects.count() == 2


def test_only_the_importer_or_an_admin_may_undo(tmp_path, users):
    report = import_file(users["sales1"], "customers", _csv(tmp_path, "客户名称\n甲\n"))
    with pytest.raises(NotPermitted):
        undo_batch(users["manager1"], report.batch_id)
    undo_batch(users["admin"], report.batch_id)
    assert Customer.objects.count() == 0
    with pytest.raises(ServiceError, match="already undone"):
        undo_batch(users["admin"], report.batch_id)
    assert AuditEvent.objects.filter(action="import.undo").count() == 1


def test_undoing_transactions_removes_exactly_the_batch(tmp_path, users, customers):
    customers["east"].external_id = "E1"
    customers["east"].save()
    keep = import_file(users["sales1"], "transactions",
                       _csv(tmp_path, "客户编号,日期,金额\nE1,2024-01-01,1\n", name="a.csv"))
    drop = import_file(users["sales1"], "transactions",
                       _csv(tmp_path, "客户编号,日期,金额\nE1,2024-01-02,2\nE1,2024-01-03,3\n",
                            name="b.csv"), chunk_size=1)
    undo_batch(users["sales1"], drop.batch_id)
    assert list(Transaction.objects.values_list("amount", flat=True)) == [Decimal("1")]
    assert keep.ok


def test_sales_may_not_import_sensitive_columns_or_give_customers_away(tmp_path, users):
    report = import_file(users["sales1"], "customers",
                         _csv(tmp_path, "客户名称,信用状况\n甲,良好\n"))
    assert not report.ok and "sensitive tier" in report.errors[0].message
    report = import_file(users["sales1"], "customers", _csv(tmp_path, "客户名称\n甲\n"),
                         owner=users["sales1b"])
    assert not report.ok and "may not assign customers to sales1b" in report.errors[0].message
    # A manager sees the sensitive tier and may give customers to the team.
    report = import_file(users["manager1"], "customers",
                         _csv(tmp_path, "客户名称,信用状况\n甲,良好\n"), owner=users["sales1b"])
    assert report.ok, report.errors
    assert Customer.objects.get().credit_rating == "good"


def test_dry_run_checks_everything_and_writes_nothing(tmp_path, users):
    report = import_file(users["admin"], "customers", _csv(tmp_path, CUSTOMERS), dry_run=True)
    assert report.ok and report.created == 2
    assert Customer.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_a_saved_mapping_is_reused_by_name(tmp_path, users):
    text = "Firma,Handy\n北方重工,13700000000\n"
    report = import_file(users["admin"], "customers", _csv(tmp_path, text))
    assert not report.ok  # neither header is known
    save_mapping(users["admin"], "customers", "erp", {"Firma": "name", "Handy": "mobile"})
    report = import_file(users["admin"], "customers", _csv(tmp_path, text), mapping_name="erp")
    assert report.ok, report.errors
    assert Customer.objects.get().mobile == "13700000000"


def test_contacts_products_and_activities_import(tmp_path, users, customers):
    customers["east"].external_id = "E1"
    customers["east"].save()
    report = import_file(users["sales1"], "contacts", _csv(
        tmp_path, "客户编号,联系人,职务,决策链角色,邮箱\nE1,王经理,采购经理,决策者,w@x.cn\n"
                  "Hangzhou Silk Co., Ltd.,李四,,,\n", name="c.csv"))
    # Hangzhou Silk belongs to sales1b: sales1 may not add contacts to it.
    assert [(e.line, "Unknown customer" in e.message) for e in report.errors] == [(3, True)]
    report = import_file(users["sales1"], "contacts", _csv(
        tmp_path, "客户,联系人,决策链角色\n上海华东贸易有限公司,王经理,决策者\n", name="c2.csv"))
    assert report.ok, report.errors
    contact = customers["east"].contacts.get()
    assert (contact.name, contact.decision_role) == ("王经理", "decision_maker")

    report = import_file(users["sales1"], "products", _csv(tmp_path, "编码,品名\nP1,螺丝\n"))
    assert not report.ok and "Only managers and admins" in report.errors[0].message
    report = import_file(users["manager1"], "products",
                         _csv(tmp_path, "产品编码,产品名称,单价\nP1,螺丝,0.50\n", name="p.csv"))
    assert report.ok, report.errors

    report = import_file(users["sales1"], "activities", _csv(
        tmp_path, "客户编号,类型,主题,时间\nE1,拜访,年度回访,2024-05-01 14:30\n", name="a.csv"))
    assert report.ok, report.errors
    activity = customers["east"].activities.get()
    assert (activity.kind, activity.author) == ("visit", users["sales1"])
    assert activity.occurred_at.hour in (14, 6)  # local time, stored in UTC


def test_a_file_that_is_not_a_table_is_refused_with_a_reason(tmp_path, users):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\xff\xfe\x00\x00\x81")
    report = import_file(users["admin"], "customers", path)
    assert not report.ok
    assert "UTF-8" in report.errors[0].message


def test_a_row_with_a_cell_too_many_is_named_whatever_the_delimiter(tmp_path, users):
    # The semicolons still tell the columns apart: the report points at the shifted row
    # instead of refusing the file for want of a name column.
    text = ("客户名称;手机;城市\n上海华东;13800000001;上海\n杭州丝绸;13800000002;杭州;多余\n"
            "北京远大;13800000003;北京\n")
    report = import_file(users["admin"], "customers", _csv(tmp_path, text))
    assert [(e.line, e.message) for e in report.errors] == [
        (3, "The row has more cells than the header has columns.")]
    assert report.columns == {"客户名称": "name", "手机": "mobile", "城市": "city"}


def test_text_with_tabs_backslashes_and_line_breaks_arrives_intact(tmp_path, users, customers):
    """PostgreSQL receives transactions in COPY's text format, where these characters are
    special; SQLite through parameters."""
    customers["east"].external_id = "E1"
    customers["east"].save()
    notes = ["tab\there", "back\\slash \\N", "two\nlines", "\\", "送货\r\n上门"]
    text = "客户编号,日期,金额,备注\n" + "".join(
        f'E1,2024-01-0{i + 1},1,"{n}"\n' for i, n in enumerate(notes))
    report = import_file(users["sales1"], "transactions", _csv(tmp_path, text))
    assert report.ok, report.errors
    assert list(Transaction.objects.order_by("date").values_list("notes", flat=True)) == notes


@pytest.mark.usefixtures("committed_db")
def test_outside_a_transaction_a_late_bad_row_still_leaves_nothing(tmp_path, users, customers):
    """Outside any transaction of its caller (a command, a background job), PostgreSQL's
    import writes chunks from a second thread while it checks the next ones; a bad row
    after several written chunks must still leave nothing, and a good file commits."""
    from django.db import connection

    customers["east"].external_id = "E1"
    customers["east"].save()
    assert not connection.in_atomic_block
    rows = [f"E1,2024-01-01,{i},N{i}" for i in range(20)]
    bad = "客户编号,日期,金额,单号\n" + "\n".join([*rows, "E1,2024-02-30,1,NX"]) + "\n"
    report = import_file(users["sales1"], "transactions", _csv(tmp_path, bad), chunk_size=3)
    assert [(e.line, e.column) for e in report.errors] == [(22, "日期")]
    assert (report.created, report.batch_id) == (0, None)
    assert not Transaction.objects.exists() and not ImportBatch.objects.exists()
    good = "客户编号,日期,金额,单号\n" + "\n".join(rows) + "\n"
    report = import_file(users["sales1"], "transactions", _csv(tmp_path, good, name="g.csv"),
                         chunk_size=3)
    assert report.ok and report.created == 20
    assert Transaction.objects.count() == 20
    assert ImportBatch.objects.get().created == 20
    undo_batch(users["sales1"], report.batch_id)
    assert not Transaction.objects.exists()


def test_a_file_with_only_a_header_is_refused(tmp_path, users):
    report = import_file(users["admin"], "customers", _csv(tmp_path, "客户名称,手机\n"))
    assert not report.ok
    assert "no rows under it" in report.errors[0].message
    assert ImportBatch.objects.count() == 0


def test_columns_named_twice_or_mapped_but_missing_refuse_the_file(tmp_path, users):
    twice = import_file(users["admin"], "customers",
                        _csv(tmp_path, "客户名称,城市,城市\nA,上海,北京\n"))
    assert not twice.ok and "Columns 2 and 3 are both headed “城市”" in twice.errors[0].message
    missing = import_file(users["admin"], "customers", _csv(tmp_path, "客户名称\nA\n"),
                          mapping={"Nope": "name"})
    assert not missing.ok
    assert "no column “Nope”" in missing.errors[0].message
    assert Customer.objects.count() == 0


def test_naming_the_owner_a_customer_already_has_is_not_a_reassignment(tmp_path, users,
                                                                         customers):
    customers["east"].external_id = "EXT-E"
    customers["east"].save()
    row = "EXT-E,上海华东贸易有限公司"
    same = import_file(users["sales1"], "customers",
                       _csv(tmp_path, f"客户编号,客户名称,负责人,城市\n{row},sales1,苏州\n"),
                       update_existing=True)
    assert same.ok, same.errors
    customers["east"].refresh_from_db()
    assert customers["east"].city == "苏州" and customers["east"].owner == users["sales1"]
    other = import_file(users["sales1"], "customers",
                        _csv(tmp_path, f"客户编号,客户名称,负责人\n{row},sales1b\n",
                             name="o.csv"), update_existing=True)
    assert not other.ok
    assert any("may reassign" in e.message for e in other.errors)


def test_contacts_import_the_decision_chain_in_the_seeds_words(tmp_path, users, customers):
    """The role, the attitude and our relationship are three columns; the old words
    支持者 and 使用者 read as 决策支撑者, as the contacts' migration maps them."""
    report = import_file(users["sales1"], "contacts", _csv(
        tmp_path, "客户,联系人,决策链角色,态度,关系\n"
                  "上海华东贸易有限公司,赵总,决策批准人,中立,认识\n"
                  "上海华东贸易有限公司,钱总监,决策支撑者,反对,密切\n"
                  "上海华东贸易有限公司,孙经理,支持者,支持,良好\n"
                  "上海华东贸易有限公司,李主管,决策影响者,,\n", name="chain.csv"))
    assert report.ok, report.errors
    got = {c.name: (c.decision_role, c.attitude, c.our_relationship)
           for c in customers["east"].contacts.all()}
    assert got == {"赵总": ("approver", "neutral", "acquainted"),
                   "钱总监": ("evaluator", "opposes", "close"),
                   "孙经理": ("evaluator", "supports", "good"),
                   "李主管": ("influencer", "", "")}
