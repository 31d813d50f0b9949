"""What the API takes, and what its OpenAPI document says it answers: JSON bodies only, query
parameters it knows, decimals written as digits, and every error status documented on every
operation that can give it."""

from __future__ import annotations

import re

import pytest

from kehu.customers.models import Customer

BODY_OPERATIONS = [("post", "/customers"), ("patch", "/customers/{east}"),
                   ("post", "/customers/{east}/lifecycle"), ("post", "/customers/{east}/contacts")]

NOT_JSON = [
    ("text/plain", '{"name": "Plain Ltd"}'),
    ("application/x-www-form-urlencoded", "name=Form+Ltd"),
    ("multipart/form-data; boundary=zz",
     '--zz\r\nContent-Disposition: form-data; name="name"\r\n\r\nMultipart Ltd\r\n--zz--\r\n'),
    ("application/xml", "<customer><name>XML Ltd</name></customer>"),
    ("application/json; charset=latin-1", '{"name": "Latin Ltd"}'),
]


def _send(api_client, method: str, path: str, body: bytes | str, content_type: str):
    return getattr(api_client.client, method)("/api/v1" + path, body,
                                              content_type=content_type,
                                              headers=api_client.headers)


@pytest.mark.parametrize(("content_type", "body"), NOT_JSON, ids=[c for c, _b in NOT_JSON])
@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS)
def test_a_body_that_is_not_json_answers_415(api, customers, method, path, content_type, body):
    count = Customer.objects.count()
    response = _send(api("admin"), method, path.replace("{east}", str(customers["east"].pk)),
                     body, content_type)
    assert response.status_code == 415, response.content
    assert response["Content-Type"].startswith("application/json")
    assert "Content-Type: application/json" in response.json()["detail"]
    assert Customer.objects.count() == count
    customers["east"].refresh_from_db()
    assert customers["east"].version == 1


@pytest.mark.parametrize(("body", "says"), [
    (b"{bad", "not valid JSON: Expecting property name"),
    (b'{"name": NaN}', "not valid JSON: NaN is not a JSON value"),
    (b'{"name": "\xff\xfe"}', "not UTF-8"),
    (b'{"name": "x"} trailing', "not valid JSON: Extra data"),
])
def test_a_json_body_that_does_not_parse_answers_400_saying_why(api, customers, body, says):
    response = _send(api("admin"), "post", "/customers", body, "application/json")
    assert response.status_code == 400, response.content
    assert says in response.json()["detail"]
    assert Customer.objects.count() == 3


def test_json_with_a_utf8_charset_or_a_json_suffix_is_taken(api, users):
    client = api("admin")
    assert _send(client, "post", "/customers", '{"name": "UTF Ltd"}',
                 "application/json; charset=UTF-8").status_code == 201
    assert _send(client, "post", "/customers", '{"name": "Suffix Ltd"}',
                 "application/merge-patch+json").status_code == 201


@pytest.mark.parametrize("path", ["/customers", "/transactions", "/customers/{east}/activities",
                                  "/customers/{east}/transactions"])
def test_an_unknown_query_parameter_is_refused_naming_it(api, customers, path):
    """A misspelt filter would otherwise answer the whole unfiltered list."""
    path = path.replace("{east}", str(customers["east"].pk))
    response = api("admin").get(path, stat="loyal")
    assert response.status_code == 422, response.content
    assert response.json()["detail"] == [{"field": "stat", "message": "Unknown parameter",
                                          "location": "query", "type": "extra_forbidden"}]
    assert api("admin").get(path, limit=5).status_code == 200


@pytest.mark.parametrize("value", ["1e3", " 12", "12 ", "0x10", "1_000", "١٢", "12.", ".5",
                                   "+5", "1,000.00", "Infinity", "12\n"])
def test_a_decimal_string_must_be_digits(api, users, value):
    response = api("admin").post("/customers", {"name": "Capital Ltd",
                                                "registered_capital": value})
    assert response.status_code == 422, (value, response.content)
    assert response.json()["detail"][0]["field"] == "registered_capital"


@pytest.mark.parametrize(("value", "stored"), [("1234.50", "1234.50"), ("0.5", "0.50"),
                                               (1234.5, "1234.50"), (12, "12.00")])
def test_a_decimal_is_digits_or_a_json_number(api, users, value, stored):
    response = api("admin").post("/customers", {"name": "Capital Ltd",
                                                "registered_capital": value})
    assert response.status_code == 201, response.content
    assert str(Customer.objects.get(pk=response.json()["id"]).registered_capital) == stored


def test_the_document_describes_what_the_validator_takes(client):
    schema = client.get("/api/v1/openapi.json").json()
    customer = schema["components"]["schemas"]["CustomerIn"]["properties"]
    assert customer["name"]["pattern"] == "^[^\\x00]*$"
    capital = customer["registered_capital"]["anyOf"]
    assert {"type": "string", "pattern": r"^-?[0-9]{1,14}(\.[0-9]{1,2})?$"} in capital
    assert {"type": "number", "exclusiveMinimum": -10**14, "exclusiveMaximum": 10**14,
            "multipleOf": 0.01} in capital


def test_every_operation_documents_the_errors_it_can_answer(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path, item in schema["paths"].items():
        for method, op in item.items():
            codes = set(op["responses"])
            where = {p["in"] for p in op.get("parameters", [])}
            expected = {"401", "503"}
            expected |= {"422"} if where or "requestBody" in op else set()
            expected |= {"404"} if "path" in where else set()
            expected |= {"400", "413", "415"} if "requestBody" in op else set()
            assert expected <= codes, (method, path, expected - codes)
            for code in expected:
                ref = op["responses"][code]["content"]["application/json"]["schema"]["$ref"]
                assert ref.rsplit("/", 1)[1] in schema["components"]["schemas"], (path, code)


@pytest.mark.parametrize(("status", "request_kwargs"), [
    (401, {"token": False}),
    (415, {"content_type": "text/plain"}),
    (400, {"body": "{"}),
])
def test_documented_error_shapes_match_the_answers(api, client, customers, status,
                                                   request_kwargs):
    schema = client.get("/api/v1/openapi.json").json()
    documented = schema["paths"]["/api/v1/customers"]["post"]["responses"][str(status)]
    shape = documented["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    required = schema["components"]["schemas"][shape]["required"]
    api_client = api("admin" if request_kwargs.get("token", True) else None)
    response = _send(api_client, "post", "/customers", request_kwargs.get("body", "{}"),
                     request_kwargs.get("content_type", "application/json"))
    assert response.status_code == status
    assert set(required) <= set(response.json())


def _strings(schema: dict, components: dict, where: str, seen: frozenset = frozenset()):
    """Every string a request may carry, with where it sits, following references."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name not in seen:
            yield from _strings(components[name], components, f"{where}→{name}", seen | {name})
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, []):
            yield from _strings(option, components, where, seen)
    if schema.get("type") == "string":
        yield where, schema
    for name, prop in schema.get("properties", {}).items():
        yield from _strings(prop, components, f"{where}.{name}", seen)
    if isinstance(schema.get("items"), dict):
        yield from _strings(schema["items"], components, f"{where}[]", seen)


def _refuses_nul(pattern: str) -> bool:
    """A pattern refuses NUL when it says so, or when it matches the whole value with
    characters from a set that cannot hold it (digits, signs, points)."""
    return "\\x00" in pattern or bool(re.fullmatch(r"\^[-?0-9\[\]{},.()|\\d+*]*\$", pattern))


def test_no_text_input_can_carry_a_nul_character(client, users):
    """PostgreSQL cannot store NUL in text: every string an operation takes, in its body or
    its query, is refused with a message when it holds one (a pattern, a choice, or a format
    whose validator takes no NUL), so no database answers the user with an error page."""
    schema = client.get("/api/v1/openapi.json").json()
    components = schema["components"]["schemas"]
    open_ = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            found = []
            for param in op.get("parameters", []):
                if param["in"] == "query":
                    found += _strings(param["schema"], components, f"?{param['name']}")
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                found += _strings(body["schema"], components, "body")
            open_ += [f"{method.upper()} {path} {where}" for where, s in found
                      if not _refuses_nul(s.get("pattern", "")) and "enum" not in s
                      and "const" not in s
                      and s.get("format") not in {"date", "date-time", "email", "uuid"}]
    assert not open_, open_


def test_no_two_schemas_share_a_name():
    """The document names each schema by its class: two of the same name would leave one
    operation described by the other's shape."""
    from collections import defaultdict

    from ninja import Schema

    import kehu.api.api  # noqa: F401  (every router and its schemas)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    where = defaultdict(set)
    for schema in subclasses(Schema):
        if schema.__module__.startswith("kehu."):
            where[schema.__name__].add(schema.__module__)
    assert not {name: m for name, m in where.items() if len(m) > 1}


def test_true_for_a_version_or_a_number_for_a_date_is_refused_naming_the_field(api, customers):
    # Pydantic would read true as version 1 and 1700000000 as a day of 2023.
    east = customers["east"]
    response = api("admin").patch(f"/customers/{east.pk}", {"version": True, "city": "无锡"})
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["detail"]] == ["version"]
    assert "true or false" in response.json()["detail"][0]["message"]
    east.refresh_from_db()
    assert east.city != "无锡" and east.version == 1

    response = api("admin").post(f"/customers/{east.pk}/transactions",
                                 {"date": 1700000000, "amount": "10"})
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["detail"]] == ["date"]
    assert "YYYY-MM-DD" in response.json()["detail"][0]["message"]
    assert not east.transactions.exists()


@pytest.mark.parametrize("day", ["1700000000", "-5.8e-223", "20240102"])
def test_a_date_filter_written_as_a_number_is_refused(api, day):
    response = api("admin").get("/transactions", date_from=day)
    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["detail"]] == ["date_from"]
    assert api("admin").get("/transactions", date_from="2024-01-02").status_code == 200
