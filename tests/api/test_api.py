"""Behaviour of the REST API as a client sees it."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest

from kehu.audit.models import AuditEvent
from kehu.customers.models import Customer

CLIENT_IP = "203.0.113.7"


def _events(action: str, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, **filters))


# Authentication ---------------------------------------------------------------------------

def test_it_refuses_requests_without_a_token(api, customers):
    response = api(None).get("/customers")
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}


def test_it_refuses_a_wrong_token(api, customers):
    client = api(None)
    client.headers = {"Authorization": "Bearer kehu_not-a-real-token"}
    assert client.get("/customers").status_code == 401
    client.headers = {"Authorization": "Basic c2FsZXMxOnB3"}
    assert client.get("/customers").status_code == 401


def test_the_count_is_exact_beyond_a_thousand(api, users):
    from kehu.customers.models import Customer

    Customer.objects.bulk_create(
        Customer(name=f"Firm {i:04d}", owner=users["sales1"], team=users["sales1"].team)
        for i in range(1203))
    body = api("admin").get("/customers?limit=5").json()
    assert body["count"] == 1203 and body["count_is_exact"] is True
    assert len(body["items"]) == 5


def test_a_revoked_token_stops_working(api, tokens, users, customers):
    from kehu.accounts.models import ApiToken
    from kehu.accounts.tokens import revoke_token

    client = api("sales1")
    assert client.get("/customers").status_code == 200
    for token in ApiToken.objects.filter(user=users["sales1"]):
        revoke_token(users["sales1"], token)
    assert client.get("/customers").status_code == 401


def test_an_inactive_users_token_stops_working(api, users, customers):
    client = api("sales1")
    type(users["sales1"]).objects.filter(pk=users["sales1"].pk).update(is_active=False)
    assert client.get("/customers").status_code == 401


# Customers --------------------------------------------------------------------------------

def test_it_lists_only_visible_customers_with_a_count(api, customers):
    body = api("sales1").get("/customers").json()
    assert [c["name"] for c in body["items"]] == [customers["east"].name]
    assert body["count"] == 1 and body["count_is_exact"] is True
    assert body["next_cursor"] is None


def test_a_search_longer_than_the_limit_is_refused_naming_the_field_and_the_maximum(
        api, customers):
    client = api("admin")
    assert client.get("/customers", q="x" * 100).status_code == 200
    response = client.get("/customers", q="上" * 101)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["field"] == "q" and error["location"] == "query"
    assert "100" in error["message"]


def test_it_pages_with_a_cursor(api, customers):
    client = api("admin")
    first = client.get("/customers", limit=2, sort="name").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = client.get("/customers", limit=2, sort="name", cursor=first["next_cursor"]).json()
    names = [c["name"] for c in first["items"] + second["items"]]
    # Name order is pinyin order: 北京 (bei jing) < Hangzhou < 上海 (shang hai).
    assert names == ["北京华北机械厂", "Hangzhou Silk Co., Ltd.", "上海华东贸易有限公司"]
    assert second["next_cursor"] is None
    assert first["count"] == second["count"] == 3


def test_it_filters_customers(api, customers):
    client = api("admin")
    assert [c["id"] for c in client.get("/customers", q="beijing").json()["items"]] == [
        customers["north"].pk]
    assert [c["id"] for c in client.get("/customers", q="6666").json()["items"]] == [
        customers["north"].pk]
    owned = client.get("/customers", owner=customers["east_b"].owner_id).json()["items"]
    assert [c["id"] for c in owned] == [customers["east_b"].pk]
    assert client.get("/customers", state="loyal").json()["items"] == []


def test_a_doctored_cursor_starts_from_the_first_page(api, customers):
    client = api("admin")
    first = client.get("/customers", limit=1).json()["items"]
    for raw in ([None, 1], ["not a date", 10**30], [1.5, 1], [{"dt": "9999-99"}, 1]):
        cursor = base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")
        for sort in ("name", "created", "updated"):
            response = client.get("/customers", limit=1, sort=sort, cursor=cursor)
            assert response.status_code == 200, (raw, sort)
        assert client.get("/customers", limit=1, cursor=cursor).json()["items"] == first


def test_it_creates_a_customer_and_audits_it(api, users):
    response = api("sales1").post("/customers", {
        "name": "深圳创新科技有限公司", "city": "深圳", "registered_capital": "5000000.00",
        "founded_on": "2015-03-01", "nature": "ordinary"})
    assert response.status_code == 201
    body = response.json()
    assert body["owner_username"] == "sales1" and body["version"] == 1
    assert body["registered_capital"] == "5000000.00"  # money as a decimal string
    assert body["founded_on"] == "2015-03-01"
    customer = Customer.objects.get(pk=body["id"])
    assert customer.registered_capital == Decimal("5000000.00")
    event = _events("customer.create", customer_id=customer.pk)[0]
    assert (event.username, event.via, event.ip) == ("sales1", "api", CLIENT_IP)


def test_a_manager_creates_for_a_team_member_but_not_for_another_team(api, users):
    client = api("manager1")
    response = client.post("/customers", {"name": "A", "owner": users["sales1b"].pk,
                                          "lifecycle_state": "target"})
    assert response.status_code == 201
    assert response.json()["owner_username"] == "sales1b"
    assert response.json()["lifecycle_state"] == "target"
    response = client.post("/customers", {"name": "B", "owner": users["sales2"].pk})
    assert response.status_code == 403
    assert response.json()["field"] == "owner"


def test_reading_a_customer_is_audited(api, customers):
    customer = customers["east"]
    response = api("service1").get(f"/customers/{customer.pk}")
    assert response.status_code == 200
    assert response.json()["name"] == customer.name
    event = _events("customer.view", customer_id=customer.pk)[0]
    assert (event.username, event.via, event.ip) == ("service1", "api", CLIENT_IP)
    assert event.detail == {"part": "card"}


def test_it_updates_with_the_version_and_refuses_a_stale_one(api, customers):
    customer = customers["east"]
    client = api("sales1")
    response = client.patch(f"/customers/{customer.pk}", {"version": 1, "city": "苏州"})
    assert response.status_code == 200
    assert response.json()["city"] == "苏州" and response.json()["version"] == 2
    event = _events("customer.update", customer_id=customer.pk)[0]
    assert event.via == "api" and event.detail["fields"] == ["city"]

    stale = api("manager1").patch(f"/customers/{customer.pk}", {"version": 1, "city": "无锡"})
    assert stale.status_code == 409
    body = stale.json()
    assert body["current_version"] == 2 and body["changed_by"] == "sales1"
    assert "sales1" in body["detail"]
    customer.refresh_from_db()
    assert customer.city == "苏州"


def test_an_update_needs_the_version(api, customers):
    response = api("sales1").patch(f"/customers/{customers['east'].pk}", {"city": "x"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "version"


def test_a_user_who_only_views_may_not_update(api, customers):
    response = api("service1").patch(f"/customers/{customers['east'].pk}",
                                     {"version": 1, "city": "x"})
    assert response.status_code == 403
    assert "may not change" in response.json()["detail"]


def test_deleting_needs_a_manager_and_no_transactions(api, customers, children):
    east, east_b = customers["east"], customers["east_b"]
    assert api("sales1").delete(f"/customers/{east.pk}").status_code == 403
    refused = api("manager1").delete(f"/customers/{east.pk}")
    assert refused.status_code == 400
    assert "transactions" in refused.json()["detail"]
    assert Customer.objects.filter(pk=east.pk).exists()

    from kehu.customers.services import delete_transaction

    delete_transaction(east_b.owner, children["east_b"]["transaction"])
    # What the customer owes us (a receivable) holds the customer too.
    held = api("manager1").delete(f"/customers/{east_b.pk}")
    assert held.status_code == 400 and "receivables" in held.json()["detail"]
    children["east_b"]["receivable"].delete()
    response = api("manager1").delete(f"/customers/{east_b.pk}")
    assert response.status_code == 204
    assert not Customer.objects.filter(pk=east_b.pk).exists()
    assert _events("customer.delete", customer_id=east_b.pk)[0].via == "api"
    assert api("manager1").get(f"/customers/{east_b.pk}").status_code == 404


def test_a_manager_changes_the_owner_with_a_reason(api, customers, users):
    customer = customers["east"]
    assert api("sales1").post(f"/customers/{customer.pk}/owner",
                              {"owner": users["sales1b"].pk}).status_code == 403
    response = api("manager1").post(f"/customers/{customer.pk}/owner",
                                    {"owner": users["sales1b"].pk, "reason": "Holiday cover"})
    assert response.status_code == 200
    assert response.json()["owner_username"] == "sales1b"
    history = api("manager1").get(f"/customers/{customer.pk}/owner").json()
    assert history[0]["owner_username"] == "sales1b"
    assert history[0]["reason"] == "Holiday cover" and history[0]["ended_at"] is None
    assert history[1]["owner_username"] == "sales1" and history[1]["ended_at"] is not None
    # The former owner no longer sees it: sales do not share in team East.
    assert api("sales1").get(f"/customers/{customer.pk}").status_code == 404


def test_the_history_names_changed_fields(api, customers):
    customer = customers["east"]
    api("sales1").patch(f"/customers/{customer.pk}", {"version": 1, "city": "苏州"})
    history = api("sales1").get(f"/customers/{customer.pk}/history").json()
    assert history[0]["user"] == "sales1"
    assert history[0]["changes"] == [{"field": "city", "label": "city", "old": "上海",
                                      "new": "苏州", "hidden": False}]
    assert _events("customer.view", customer_id=customer.pk)[0].detail == {"part": "history"}


# Sensitive tier ---------------------------------------------------------------------------

def test_sensitive_fields_are_absent_for_users_outside_the_tier(api, customers, children):
    customer = customers["east"]
    card = api("sales1").get(f"/customers/{customer.pk}").json()
    assert "credit_rating" not in card and "legal_rep_birth_year" not in card
    listed = api("sales1").get("/customers").json()["items"][0]
    assert "credit_rating" not in listed
    contact = api("sales1").get(f"/contacts/{children['east']['contact'].pk}").json()
    assert "personal_interests" not in contact and "birthday" not in contact

    assert api("manager1").get(f"/customers/{customer.pk}").json()["credit_rating"] == "good"
    contact = api("manager1").get(f"/contacts/{children['east']['contact'].pk}").json()
    assert contact["personal_interests"] == "golf"


def test_writing_a_sensitive_field_is_refused_naming_it(api, customers, children):
    customer = customers["east"]
    response = api("sales1").patch(f"/customers/{customer.pk}",
                                   {"version": 1, "credit_limit": "1000.00"})
    assert response.status_code == 403
    assert response.json()["field"] == "credit_limit"
    response = api("sales1").post("/customers", {"name": "X", "credit_rating": "poor"})
    assert response.status_code == 403 and response.json()["field"] == "credit_rating"
    response = api("sales1").patch(f"/contacts/{children['east']['contact'].pk}",
                                   {"version": 1, "birthday": "1980-01-01"})
    assert response.status_code == 403 and response.json()["field"] == "birthday"
    customer.refresh_from_db()
    assert customer.credit_limit is None

    response = api("manager1").patch(f"/customers/{customer.pk}",
                                     {"version": 1, "credit_limit": "1000.00"})
    assert response.status_code == 200 and response.json()["credit_limit"] == "1000.00"


def test_sensitive_values_are_hidden_in_the_history(api, customers):
    customer = customers["east"]
    api("manager1").patch(f"/customers/{customer.pk}", {"version": 1, "credit_rating": "poor"})
    change = api("sales1").get(f"/customers/{customer.pk}/history").json()[0]["changes"][0]
    assert change == {"field": "credit_rating", "label": "credit status", "old": None,
                      "new": None, "hidden": True}
    change = api("manager1").get(f"/customers/{customer.pk}/history").json()[0]["changes"][0]
    assert (change["old"], change["new"]) == ("good", "poor")


# Lifecycle --------------------------------------------------------------------------------

def test_lifecycle_transitions_are_recorded(api, customers):
    customer = customers["east"]
    response = api("sales1").post(f"/customers/{customer.pk}/lifecycle",
                                  {"state": "target", "reason": "Met at the trade fair"})
    assert response.status_code == 200 and response.json()["lifecycle_state"] == "target"
    history = api("sales1").get(f"/customers/{customer.pk}/lifecycle").json()
    assert [(t["from_state"], t["to_state"]) for t in history] == [("potential", "target"),
                                                                   ("", "potential")]
    assert history[0]["by"] == "sales1" and history[0]["reason"] == "Met at the trade fair"
    event = _events("customer.lifecycle", customer_id=customer.pk)[0]
    assert event.via == "api" and event.detail["to"] == "target"


def test_an_unknown_lifecycle_state_is_refused(api, customers):
    response = api("sales1").post(f"/customers/{customers['east'].pk}/lifecycle",
                                  {"state": "happy"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "state"


def test_viewers_may_not_change_the_state(api, customers):
    response = api("analyst1").post(f"/customers/{customers['east'].pk}/lifecycle",
                                    {"state": "target"})
    assert response.status_code == 403


# Contacts ---------------------------------------------------------------------------------

def test_contacts_are_created_updated_and_deleted(api, customers):
    customer = customers["east"]
    client = api("sales1")
    created = client.post(f"/customers/{customer.pk}/contacts",
                          {"name": "王经理", "title": "采购经理", "decision_role": "approver"})
    assert created.status_code == 201
    contact_id = created.json()["id"]
    names = [c["name"] for c in client.get(f"/customers/{customer.pk}/contacts").json()]
    assert "王经理" in names

    updated = client.patch(f"/contacts/{contact_id}", {"version": 1, "phone": "138 0000 0000"})
    assert updated.status_code == 200 and updated.json()["version"] == 2
    stale = client.patch(f"/contacts/{contact_id}", {"version": 1, "phone": "1"})
    assert stale.status_code == 409 and stale.json()["current_version"] == 2

    assert client.delete(f"/contacts/{contact_id}").status_code == 204
    assert client.get(f"/contacts/{contact_id}").status_code == 404
    assert [e.via for e in _events("contact.delete")] == ["api"]


def test_a_contact_with_a_bad_email_names_the_field(api, customers):
    response = api("sales1").post(f"/customers/{customers['east'].pk}/contacts",
                                  {"name": "X", "email": "not-an-address"})
    assert response.status_code == 422
    assert response.json() == {"detail": [{"field": "email",
                                           "message": "Enter a valid email address."}]}


# Transactions -----------------------------------------------------------------------------

def test_a_return_with_lines_is_stored_negative(api, customers):
    customer = customers["east"]
    response = api("sales1").post(f"/customers/{customer.pk}/transactions", {
        "kind": "return", "date": "2024-06-01", "number": "R-1",
        "lines": [{"description": "Widget", "quantity": "2", "unit_price": "9.99",
                   "unit_cost": "5.00"}]})
    assert response.status_code == 201
    body = response.json()
    assert body["amount"] == "-19.98" and body["cost"] == "-10.00"
    assert body["lines"][0]["quantity"] == "-2.000"
    detail = api("sales1").get(f"/transactions/{body['id']}").json()
    assert detail["gross_profit"] == "-9.98"


def test_transactions_are_listed_by_date_range_and_paged(api, customers, children):
    customer = customers["east"]
    client = api("sales1")
    for day in ("2024-01-10", "2024-02-10", "2024-03-10"):
        assert client.post(f"/customers/{customer.pk}/transactions",
                           {"date": day, "amount": "10.00"}).status_code == 201
    listed = client.get("/transactions", date_from="2024-02-01", date_to="2024-05-31").json()
    assert [t["date"] for t in listed["items"]] == ["2024-05-01", "2024-03-10", "2024-02-10"]
    first = client.get(f"/customers/{customer.pk}/transactions", limit=2).json()
    second = client.get(f"/customers/{customer.pk}/transactions", limit=2,
                        cursor=first["next_cursor"]).json()
    assert [t["date"] for t in first["items"] + second["items"]] == [
        "2024-05-01", "2024-03-10", "2024-02-10", "2024-01-10"]
    assert client.get("/transactions", customer=customers["north"].pk).json()["items"] == []


def test_a_transaction_needs_an_amount_or_lines(api, customers):
    response = api("sales1").post(f"/customers/{customers['east'].pk}/transactions",
                                  {"date": "2024-01-01"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "amount"


def test_transactions_are_deleted_through_the_api(api, children):
    txn = children["east"]["transaction"]
    assert api("service1").delete(f"/transactions/{txn.pk}").status_code == 403
    assert api("sales1").delete(f"/transactions/{txn.pk}").status_code == 204
    assert api("sales1").get(f"/transactions/{txn.pk}").status_code == 404


# Activities -------------------------------------------------------------------------------

def test_activities_are_logged_listed_and_deleted(api, customers, children):
    customer = customers["east"]
    client = api("service1")  # service may contribute to the timeline
    response = client.post(f"/customers/{customer.pk}/activities", {
        "kind": "visit", "subject": "拜访", "occurred_at": "2024-06-01T10:00:00",
        "contact": children["east"]["contact"].pk})
    assert response.status_code == 201
    body = response.json()
    assert body["occurred_at"] == "2024-06-01T10:00:00+08:00"  # the firm's time zone
    assert body["author"] == "service1"
    listed = client.get(f"/customers/{customer.pk}/activities").json()["items"]
    assert body["id"] in [a["id"] for a in listed]
    assert client.delete(f"/activities/{body['id']}").status_code == 204
    assert client.get(f"/activities/{body['id']}").status_code == 404


def test_an_activity_may_not_name_another_customers_contact(api, customers, children):
    response = api("admin").post(f"/customers/{customers['east'].pk}/activities", {
        "subject": "Call", "contact": children["north"]["contact"].pk})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "contact"


def test_viewers_may_not_log_activities(api, customers):
    response = api("analyst1").post(f"/customers/{customers['east'].pk}/activities",
                                    {"subject": "Call"})
    assert response.status_code == 403


# Errors and garbage -----------------------------------------------------------------------

def test_schema_errors_name_the_field(api, customers):
    response = api("sales1").patch(f"/customers/{customers['east'].pk}",
                                   {"version": 1, "email": 5, "colour": "red"})
    assert response.status_code == 422
    fields = {e["field"]: e for e in response.json()["detail"]}
    assert set(fields) == {"email", "colour"}
    assert fields["colour"]["message"] == "Extra inputs are not permitted"


def test_nested_errors_name_the_line(api, customers):
    response = api("sales1").post(f"/customers/{customers['east'].pk}/transactions",
                                  {"date": "2024-01-01", "lines": [{"quantity": "lots"}]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "lines.0.quantity"


GARBAGE = [
    ("GET", "/customers/99999999999999999999999", None, {}, "id"),
    ("GET", "/customers/abc", None, {}, "id"),
    ("GET", "/customers/0", None, {}, "id"),
    ("GET", "/contacts/1e5", None, {}, "contact_id"),
    ("GET", "/customers", None, {"owner": "1" * 30}, "owner"),
    ("GET", "/customers", None, {"q": "a\x00b"}, "q"),
    ("GET", "/customers", None, {"limit": "100000"}, "limit"),
    ("GET", "/customers", None, {"sort": "password"}, "sort"),
    ("GET", "/customers", None, {"desc": "perhaps"}, "desc"),
    ("GET", "/customers", None, {"cursor": "x" * 1000}, "cursor"),
    ("GET", "/transactions", None, {"date_from": "2024-13-45"}, "date_from"),
    ("GET", "/transactions", None, {"date_to": "yesterday"}, "date_to"),
    ("POST", "/customers", {"name": "x", "registered_capital": "NaN"}, {}, "registered_capital"),
    ("POST", "/customers", {"name": "x", "registered_capital": "1e999999"}, {},
     "registered_capital"),
    ("POST", "/customers", {"name": "x", "registered_capital": "12.345"}, {},
     "registered_capital"),
    ("POST", "/customers", {"name": "x", "registered_capital": "lots"}, {}, "registered_capital"),
    ("POST", "/customers", {"name": "x", "legal_rep_birth_year": 10**30}, {},
     "legal_rep_birth_year"),
    ("POST", "/customers", {"name": "x\x00y"}, {}, "name"),
    ("POST", "/customers", {"name": ""}, {}, "name"),
    ("POST", "/customers", {"name": "y" * 201}, {}, "name"),
    ("POST", "/customers", {"name": "x", "founded_on": "2024-02-30"}, {}, "founded_on"),
    ("POST", "/customers", {"name": "x", "size": "enormous"}, {}, "size"),
    ("POST", "/customers", {"name": "x", "owner": 10**30}, {}, "owner"),
    ("POST", "/customers", {"name": "x", "owner": 987654321}, {}, "owner"),
    ("POST", "/customers", {"name": "x", "nature": None}, {}, "nature"),
    ("POST", "/customers", [1, 2], {}, None),
    ("POST", "/customers", {}, {}, "name"),
    ("POST", "/customers/{east}/owner", {"owner": 10**18}, {}, "owner"),
    ("POST", "/customers/{east}/owner", {"owner": 1, "reason": "r" * 301}, {}, "reason"),
    ("POST", "/customers/{east}/lifecycle", {"state": "potential", "reason": "r" * 301}, {},
     "reason"),
    ("POST", "/customers/{east}/transactions",
     {"date": "2024-01-01", "lines": [{"quantity": "999999999.999",
                                       "unit_price": "999999999999.99"}]}, {}, "amount"),
    ("POST", "/customers/{east}/transactions",
     {"date": "2024-01-01", "lines": [{"product": 424242}]}, {}, "lines"),
    ("POST", "/customers/{east}/transactions", {"date": "0000-01-01", "amount": "1"}, {},
     "date"),
    ("POST", "/customers/{east}/transactions", {"date": "2024-01-01", "amount": "Infinity"}, {},
     "amount"),
    ("POST", "/customers/{east}/activities",
     {"subject": "x", "occurred_at": "0001-01-01T00:00:00+05:00"}, {}, "occurred_at"),
    ("POST", "/customers/{east}/activities", {"subject": "x", "kind": "telepathy"}, {}, "kind"),
    ("POST", "/customers/{east}/activities", {"subject": ""}, {}, "subject"),
    ("PATCH", "/customers/{east}", {"version": 10**30}, {}, "version"),
    ("PATCH", "/customers/{east}", {"version": "one"}, {}, "version"),
    ("PATCH", "/customers/{east}", {"version": 1, "external_id": "x" * 65}, {}, "external_id"),
]


@pytest.mark.parametrize(("method", "path", "body", "query", "field"), GARBAGE,
                         ids=[f"{g[0]} {g[1]} {g[4]}" for g in GARBAGE])
def test_garbage_is_refused_naming_the_field(api, customers, method, path, body, query, field):
    path = path.replace("{east}", str(customers["east"].pk))
    response = api("admin").request(method, path, body, **query)
    assert response.status_code == 422, response.content
    assert field in [e["field"] for e in response.json()["detail"]], response.json()


def test_a_duplicate_external_id_is_refused(api, customers):
    client = api("admin")
    assert client.post("/customers", {"name": "A", "external_id": "ERP-1"}).status_code == 201
    response = client.post("/customers", {"name": "B", "external_id": "ERP-1"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "external_id"


def test_a_body_that_is_not_json_is_refused(api, customers):
    client = api("admin")
    response = client.client.post("/api/v1/customers", "{not json", content_type="application/json",
                                   headers=client.headers)
    assert response.status_code == 400
    assert "detail" in response.json()


def test_an_unknown_api_path_answers_json(api):
    response = api("admin").get("/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found"}


# Schema and docs --------------------------------------------------------------------------

def test_the_schema_documents_token_auth_and_every_resource(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    for path in ("/api/v1/customers", "/api/v1/customers/{id}", "/api/v1/customers/{id}/lifecycle",
                 "/api/v1/customers/{id}/contacts", "/api/v1/transactions",
                 "/api/v1/customers/{id}/activities"):
        assert path in schema["paths"]


def test_the_docs_page_works_offline(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html

    from django.contrib.staticfiles import finders

    for asset in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui.css",
                  "ninja/swagger-ui-init.js"):
        assert finders.find(asset), asset
