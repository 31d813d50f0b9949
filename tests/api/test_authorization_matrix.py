"""The permission matrix of the REST API, generated from its OpenAPI schema.

Every operation is called as every role with records of a customer the role may not see:
each answers 404 exactly like a missing record, and lists leave the customer out. An
operation added later is covered without editing this file, and a path parameter this file
does not know makes it fail instead of silently skipping the operation.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

ROLES = ["admin", "manager1", "sales1", "service1", "marketing1", "analyst1", "manager2",
         "sales2"]

# Which record each path parameter names.
PATH_PARAMS = {
    "id": "customer",
    "contact_id": "contact",
    "transaction_id": "transaction",
    "activity_id": "activity",
    "loan_id": "loan",
    "task_id": "task",
    "plan_id": "account_plan",
    "receivable_id": "receivable",
    "lead_id": "lead",
    "consent_id": "consent",
    "opportunity_id": "opportunity",
    "campaign_id": "campaign",
    "list_id": "target_list",
    "ticket_id": "ticket",
    "offer_id": "offer_list",
}
# Lists whose items are about many customers at once (a campaign, a target list): they
# name no customer, and are scoped by their owner (tests/marketing/test_campaigns_api.py).
MANY_CUSTOMER_LISTS = {"/api/v1/campaigns", "/api/v1/target-lists"}

METHODS = ("get", "post", "put", "patch", "delete")
# Path parameters that name something other than a customer's records (their operations
# are tested on their own: tests/analytics/test_value_api.py, tests/api/test_surveys_api.py,
# tests/service/test_knowledge_api.py).
NOT_CUSTOMER_PARAMS = {"job_id", "survey_id", "article_id"}
# Lists of records that belong to no customer (the knowledge base: the firm's know-how).
NOT_CUSTOMER_LISTS = {"/api/v1/articles"}


def _operations(schema: dict) -> list[tuple[str, str, dict]]:
    return [(method.upper(), path, op) for path, item in schema["paths"].items()
            for method, op in item.items() if method in METHODS
            and not NOT_CUSTOMER_PARAMS & set(_path_params(path, op))
            and path not in NOT_CUSTOMER_LISTS]


def _path_params(path: str, op: dict) -> list[str]:
    return [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]


def _resolve(node: dict, schema: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _example(node: dict, schema: dict) -> Any:
    """A minimal valid value for a JSON schema: its required properties only."""
    node = _resolve(node, schema)
    if "anyOf" in node:
        # A decimal is a patterned string or a number: the number is the simpler example.
        options = [n for n in node["anyOf"] if n.get("type") != "null"]
        return _example(next((n for n in options if "pattern" not in n), options[0]), schema)
    if "enum" in node:
        return next((v for v in node["enum"] if v != ""), node["enum"][0])
    kind = node.get("type")
    if kind == "object":
        return {name: _example(prop, schema) for name, prop in node.get("properties", {}).items()
                if name in node.get("required", [])}
    if kind == "string":
        return {"date": "2024-01-02", "date-time": "2024-01-02T10:00:00+08:00"}.get(
            node.get("format"), "x" * max(1, node.get("minLength", 1)))
    if kind == "integer":
        return max(1, node.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    raise AssertionError(f"no example for {node}")


def _body(op: dict, schema: dict) -> Any:
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    return _example(content["schema"], schema) if content else None


def _url(path: str, op: dict, records: dict[str, Any]) -> str:
    for name in _path_params(path, op):
        if name not in PATH_PARAMS:
            pytest.fail(f"{path}: path parameter {{{name}}} is unknown to the permission "
                        f"matrix; add it to PATH_PARAMS")
        path = path.replace("{" + name + "}", str(records[PATH_PARAMS[name]].pk))
    return path


def _items(payload: Any) -> list[dict]:
    return payload["items"] if isinstance(payload, dict) else payload


def _customer_ids(path: str, payload: Any) -> set[int]:
    """The customers a list shows."""
    ids = set()
    for item in _items(payload):
        if path.endswith("/customers") and "id" in item:
            ids.add(item["id"])
        elif path.endswith("/leads"):
            # A lead belongs to its owner's scope; each fixture lead is referred by a
            # customer of its owner (tests.conftest.make_leads).
            ids.add(item["referrer"])
        elif "customer" in item:
            ids.add(item["customer"])
        else:
            pytest.fail(f"{path}: the matrix cannot tell which customer a list item belongs to")
    return ids


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def records(customers, children, users, loan_requests,
            plan_records) -> dict[str, dict[str, Any]]:
    from kehu.analytics.refresh import refresh_values

    refresh_values(users["admin"])  # every customer has value scores to read
    from tests.conftest import make_campaigns, make_consents, make_leads, make_offer_lists

    leads = make_leads(users, customers)
    consents = make_consents(users, customers)
    campaigns = make_campaigns(users, customers)
    offers = make_offer_lists(users, customers)
    return {key: {"customer": customers[key], **children[key], "loan": loan_requests[key],
                  **plan_records[key], "lead": leads[key], "consent": consents[key],
                  **campaigns[key], "offer_list": offers[key]}
            for key in customers}


def _hidden_from(role: str) -> str:
    """The customer `role` must not see: another team's, or for a sales user without team
    sharing, a teammate's."""
    return {"manager2": "east", "sales2": "east", "sales1b": "east"}.get(role, "north")


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"] + ["sales1b"])
def test_no_operation_reaches_a_customer_out_of_reach(role, api, schema, records, customers):
    hidden = _hidden_from(role)
    client = api(role)
    before = type(customers[hidden]).objects.get(pk=customers[hidden].pk)
    exercised = set()
    for method, path, op in _operations(schema):
        if not _path_params(path, op):
            continue
        response = client.request(method, _url(path, op, records[hidden]), _body(op, schema))
        assert response.status_code == 404, (role, method, path, response.content)
        assert response.json() == {"detail": "Not found"}, (role, method, path)
        exercised.add((method, path))
    every = {(m, p) for m, p, op in _operations(schema) if _path_params(p, op)}
    assert exercised == every
    # Nothing was changed or deleted behind the 404s.
    customer = customers[hidden]
    customer.refresh_from_db()
    assert (customer.version, customer.lifecycle_state) == (before.version,
                                                            before.lifecycle_state)
    for record in records[hidden].values():
        assert type(record).objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize("role", ROLES + ["sales1b"])
def test_lists_leave_out_customers_out_of_reach(role, api, schema, records, customers):
    client = api(role)
    lists = [(path, op) for method, path, op in _operations(schema)
             if method == "GET" and not _path_params(path, op)]
    assert lists, "the API has list operations"
    hidden = customers[_hidden_from(role)]
    for path, op in lists:
        response = client.get(path)
        if response.status_code == 403 and "403" in op["responses"]:
            continue  # a report the role may not read at all
        assert response.status_code == 200, (role, path, response.content)
        payload = response.json()
        if path in MANY_CUSTOMER_LISTS:
            # Nothing names the hidden customer; the list and campaign of its owner's team
            # are absent, and the admin sees both.
            kind = "campaign" if path.endswith("/campaigns") else "target_list"
            listed = {item["id"] for item in payload["items"]}
            theirs = records[_hidden_from(role)][kind].pk
            if role == "admin":
                assert theirs in listed, (role, path)
            else:
                assert hidden.name not in response.content.decode(), (role, path)
                assert theirs not in listed, (role, path)
            continue
        if not (isinstance(payload, list) or "items" in payload):
            # A report (sums, counts): nothing in it names the hidden customer or its owner.
            if role != "admin":
                text = response.content.decode()
                # The owner's name as a whole word: sales1b's own rows name sales1b.
                owner = re.compile(rf"\b{re.escape(hidden.owner.username)}\b")
                assert hidden.name not in text and not owner.search(text), (role, path)
            continue
        shown = _customer_ids(path, payload)
        if role == "admin":
            assert {c.pk for c in customers.values()} <= shown, path
        else:
            assert hidden.pk not in shown, (role, path)


def test_admin_reads_every_customer(api, schema, records):
    client = api("admin")
    for method, path, op in _operations(schema):
        if method != "GET" or not _path_params(path, op):
            continue
        for key in ("east", "north"):
            response = client.get(_url(path, op, records[key]))
            assert response.status_code == 200, (path, key, response.content)


@pytest.mark.parametrize("role", ["manager1", "sales1", "service1", "marketing1", "analyst1"])
def test_roles_read_their_own_teams_customer(role, api, schema, records, users):
    """The 404s above are not an artefact of wrong urls: the same operations answer for a
    customer the role may see (credit, the sensitive tier, with 403 to a role without it)."""
    client = api(role)
    for method, path, op in _operations(schema):
        if method == "GET" and _path_params(path, op):
            response = client.get(_url(path, op, records["east"]))
            if not users[role].sees_sensitive and response.status_code == 403:
                assert "403" in op["responses"], path
                continue
            assert response.status_code == 200, (role, path, response.content)


def test_matrix_knows_every_path_parameter(schema):
    unknown = {(path, name) for _m, path, op in _operations(schema)
               for name in _path_params(path, op) if name not in PATH_PARAMS}
    assert not unknown, f"add these path parameters to PATH_PARAMS: {sorted(unknown)}"


def test_unauthenticated_calls_are_refused_everywhere(api, schema, records):
    client = api(None)
    for method, path, op in _operations(schema):
        response = client.request(method, _url(path, op, records["east"]), _body(op, schema))
        assert response.status_code == 401, (method, path)
