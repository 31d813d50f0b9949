"""The import wizard through the web: upload → columns → preview → background import →
result → undo; who may import what; whose uploads and batches are whose."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kehu.audit.models import AuditEvent
from kehu.core import jobs
from kehu.core.worker import run_pending
from kehu.customers.models import Customer
from kehu.dataio.models import ImportBatch, ImportMapping, ImportUpload

GBK_CUSTOMERS = ("客户编号,公司,手机,邮箱,城市,负责人\n"
                 "W1,上海新星贸易有限公司,13900000001,a@xinxing.cn,上海,sales1\n"
                 "W2,杭州远大机械,13900000002,,杭州,sales1\n").encode("gbk")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def upload(client, content: bytes, name="客户.csv", kind="customers", **extra):
    return client.post(reverse("dataio:import"), {
        "kind": kind, "file": SimpleUploadedFile(name, content), **extra})


def _upload_id(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return re.search(r"/data/import/([0-9a-f-]{36})/", response["Location"])[1]


def _mapping_post(page: str, **changes: str) -> dict[str, str]:
    """The column form as the browser would post it: every select with its selected value."""
    data = {}
    for select in re.finditer(r'<select name="(col\d+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', select[2])
        data[select[1]] = chosen[1] if chosen else ""
    data.update(changes)
    return data


@pytest.mark.usefixtures("committed_db")
def test_the_wizard_imports_a_gbk_file_in_the_background_and_undoes_it(users):
    client = client_for(users["manager1"])
    assert "客户名称" not in GBK_CUSTOMERS.decode("gbk")  # "公司" must be matched, not exact
    upload_id = _upload_id(upload(client, GBK_CUSTOMERS))

    columns = client.get(reverse("dataio:import_columns", args=[upload_id])).content.decode()
    assert "上海新星贸易有限公司" in columns  # first values shown next to each column
    post = _mapping_post(columns, save_as="ERP 客户")
    assert post["col1"] == "name" and post["col2"] == "mobile"  # matched automatically
    post["col4"] = ""  # the user decides to ignore the city column
    response = client.post(reverse("dataio:import_columns", args=[upload_id]), post)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert ImportMapping.objects.get(name="ERP 客户").mapping["城市"] == ""

    preview = client.get(reverse("dataio:import_preview", args=[upload_id])).content.decode()
    assert "These rows are fine" in preview and "杭州远大机械" in preview
    assert "cell-error" not in preview

    response = client.post(reverse("dataio:import_run", args=[upload_id]))
    assert response["Location"] == reverse("dataio:import_status", args=[upload_id])
    job = ImportUpload.objects.get(pk=upload_id).job
    assert "Waiting for the worker" in client.get(response["Location"]).content.decode()
    assert run_pending() == 1
    assert jobs.get(job.pk).status == "done"
    page = client.get(response["Location"]).content.decode()
    assert "2 rows imported: 2 created, 0 updated." in page
    w1 = Customer.objects.get(external_id="W1")
    assert (w1.name, w1.mobile, w1.city, w1.owner) == ("上海新星贸易有限公司", "13900000001", "",
                                                       users["sales1"])
    batch = ImportBatch.objects.get()
    assert AuditEvent.objects.filter(action="import", detail__batch=batch.pk).exists()

    response = client.post(reverse("dataio:batch_undo", args=[batch.pk]), follow=True)
    assert "undone" in response.content.decode()
    assert not Customer.objects.exists()


@pytest.mark.usefixtures("committed_db")
def test_a_bad_row_is_marked_in_the_preview_and_the_import_lists_every_problem(users):
    client = client_for(users["manager1"])
    rows = ["客户名称,邮箱,负责人"] + [f"公司{i},c{i}@example.com,sales1" for i in range(30)]
    rows[3] = "坏公司,not-an-email,nobody"  # line 4
    rows[25] = ",x@example.com,sales1"  # line 26, beyond the preview
    upload_id = _upload_id(upload(client, "\n".join(rows).encode("utf-8-sig"), name="c.csv"))
    columns = client.get(reverse("dataio:import_columns", args=[upload_id])).content.decode()
    client.post(reverse("dataio:import_columns", args=[upload_id]), _mapping_post(columns))
    preview = client.get(reverse("dataio:import_preview", args=[upload_id])).content.decode()
    assert preview.count('class="cell-error"') == 2
    assert "“not-an-email” is not a valid e-mail address." in preview
    assert "line 4, column “负责人”: Unknown owner “nobody”." in preview
    assert "Check the whole file" in preview

    client.post(reverse("dataio:import_run", args=[upload_id]))
    assert run_pending() == 1
    page = client.get(reverse("dataio:import_status", args=[upload_id])).content.decode()
    assert "refused because of 3 problems; nothing was imported" in page
    assert re.search(r"<td class=\"num\">26</td><td>客户名称</td><td>This field is required.",
                     page)
    assert not Customer.objects.exists() and not ImportBatch.objects.exists()


@pytest.mark.django_db
def test_columns_mapped_twice_or_missing_are_refused_with_a_reason(users):
    client = client_for(users["admin"])
    upload_id = _upload_id(upload(client, "客户名称,手机\n甲,1\n".encode(), name="a.csv"))
    url = reverse("dataio:import_columns", args=[upload_id])
    response = client.post(url, {"col0": "name", "col1": "name"})
    assert response.status_code == 400
    assert "both map to" in response.content.decode()
    response = client.post(url, {"col0": "", "col1": "mobile"})
    assert "No column for the required field" in response.content.decode()


@pytest.mark.django_db
def test_what_is_not_a_table_is_refused_at_upload(users):
    client = client_for(users["admin"])
    response = upload(client, b"\x89PNG\r\n\x1a\n", name="photo.png")
    assert response.status_code == 400
    assert "is not a CSV or XLSX file" in response.content.decode()
    response = upload(client, b"PK\x03\x04broken", name="broken.xlsx")
    assert "not a readable XLSX workbook" in response.content.decode()
    assert not ImportUpload.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "kinds"), [
    ("admin", {"customers", "contacts", "transactions", "products", "activities",
               "receivables", "payments", "leads"}),
    ("manager1", {"customers", "contacts", "transactions", "products", "activities",
                  "receivables", "payments", "leads"}),
    ("sales1", {"customers", "contacts", "transactions", "activities", "leads"}),
    ("service1", {"activities"}),
    ("marketing1", set()),
    ("analyst1", set()),
])
def test_each_role_imports_its_kinds_only(users, role, kinds):
    client = client_for(users[role])
    page = client.get(reverse("dataio:import")).content.decode()
    offered = set(re.findall(r'<option value="(\w+)"', page.split('name="kind"')[1].split(
        "</select>")[0])) if 'name="kind"' in page else set()
    assert offered == kinds
    for kind in {"customers", "products", "activities"} - kinds:
        response = upload(client, b"x\n1\n", kind=kind)
        assert response.status_code == 400
    assert not ImportUpload.objects.exists()


@pytest.mark.django_db
def test_uploads_and_batches_are_their_owners(users, tmp_path):
    owner, other = client_for(users["sales1"]), client_for(users["sales1b"])
    upload_id = _upload_id(upload(owner, "客户名称\n甲\n".encode(), name="a.csv"))
    for name in ("import_columns", "import_preview", "import_status"):
        assert other.get(reverse(f"dataio:{name}", args=[upload_id])).status_code == 404
    assert other.post(reverse("dataio:import_run", args=[upload_id])).status_code == 404

    from kehu.dataio.imports.services import import_file

    path = tmp_path / "b.csv"
    path.write_text("客户名称\n乙\n", encoding="utf-8")
    batch_id = import_file(users["sales1"], "customers", path).batch_id
    assert other.get(reverse("dataio:batch", args=[batch_id])).status_code == 404
    assert other.post(reverse("dataio:batch_undo", args=[batch_id])).status_code == 404
    assert "乙" not in other.get(reverse("dataio:batches")).content.decode()
    assert "b.csv" in owner.get(reverse("dataio:batches")).content.decode()
    # An admin sees every batch and may undo it.
    admin = client_for(users["admin"])
    assert admin.get(reverse("dataio:batch", args=[batch_id])).status_code == 200
    admin.post(reverse("dataio:batch_undo", args=[batch_id]))
    assert not Customer.objects.filter(name="乙").exists()


@pytest.mark.django_db
def test_undo_refused_after_a_change_says_why(users, tmp_path):
    from kehu.customers.services import update_customer
    from kehu.dataio.imports.services import import_file

    path = tmp_path / "b.csv"
    path.write_text("客户名称\n乙\n", encoding="utf-8")
    batch_id = import_file(users["sales1"], "customers", path).batch_id
    update_customer(users["sales1"], Customer.objects.get(), {"city": "南京"}, expected_version=1)
    response = client_for(users["sales1"]).post(reverse("dataio:batch_undo", args=[batch_id]),
                                                follow=True)
    assert "have been changed or added to since it ran" in response.content.decode()
    assert Customer.objects.exists()
