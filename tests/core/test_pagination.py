"""Keyset pagination against cursors nobody issued: whatever a client puts in ?cursor=, the
list answers its first page (the web pages say the link was no longer valid), never a server
error. Fuzzed with hypothesis over every sorted list kehu pages."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.audit.models import AuditEvent
from kehu.core.pagination import _decode, keyset_page
from kehu.customers.models import Customer, Transaction
from kehu.customers.selectors import SORTS, sort_key
from kehu.sales.models import Activity

pytestmark = pytest.mark.django_db

INVALID = "That page link is no longer valid; showing the first page."


def cursor_of(raw) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


# Cursors that decode to a position no row can have. Each answered 500 before: the times
# overflow when converted to UTC for the database, the strings cannot be sent to it.
FORGED = {
    "time before year 1 in UTC": [{"dt": "0001-01-01T00:00:00+05:00"}, 1],
    "naive time before year 1 in UTC": ["0001-01-01T00:00:00", 1],
    "time after year 9999 in UTC": [{"dt": "9999-12-31T23:59:59-05:00"}, 1],
    "lone surrogate": ["a\ud800b", 1],
    "NUL character": ["a\x00b", 1],
}

# Every list kehu pages with a cursor: (model, sort field).
LISTS = [(Customer, field) for field in SORTS.values()] + [
    (Activity, "occurred_at"), (Transaction, "date"), (AuditEvent, "at")]


@pytest.fixture
def records(customers, children):
    return children


@pytest.fixture
def api(users):
    from kehu.accounts.tokens import create_token
    from tests.api.conftest import ApiClient

    return lambda name: ApiClient(create_token(users[name], "tests")[1])


@pytest.mark.parametrize("raw", FORGED.values(), ids=FORGED.keys())
@pytest.mark.parametrize("sort", ["name", "created", "updated"])
def test_the_api_answers_a_forged_cursor_with_the_first_page(api, records, raw, sort):
    client = api("admin")
    first = client.get("/customers", limit=1, sort=sort).json()
    response = client.get("/customers", limit=1, sort=sort, cursor=cursor_of(raw))
    assert response.status_code == 200, response.content
    assert response.json()["items"] == first["items"]


@pytest.mark.parametrize("raw", FORGED.values(), ids=FORGED.keys())
def test_activities_and_transactions_answer_a_forged_cursor_with_the_first_page(
        api, customers, records, raw):
    client = api("admin")
    east = customers["east"].pk
    for path in (f"/customers/{east}/activities", "/transactions",
                 f"/customers/{east}/transactions"):
        response = client.get(path, cursor=cursor_of(raw))
        assert response.status_code == 200, (path, response.content)
        assert response.json()["items"] == client.get(path).json()["items"], path


@pytest.mark.parametrize("raw", FORGED.values(), ids=FORGED.keys())
def test_web_lists_say_a_forged_link_is_no_longer_valid(client, users, records, raw):
    client.force_login(users["admin"])
    for sort in ("created", "updated"):
        response = client.get(reverse("customers:list"), {"sort": sort, "cursor": cursor_of(raw)})
        assert response.status_code == 200
        page = response.content.decode()
        assert INVALID in page and "上海华东贸易有限公司" in page
    response = client.get(reverse("customers:list"), {"sort": "name", "cursor": cursor_of(raw)})
    assert response.status_code == 200
    response = client.get(reverse("audit:events"), {"cursor": cursor_of(raw)})
    assert response.status_code == 200 and INVALID in response.content.decode()


def test_a_cursor_kehu_issued_is_taken(client, users, teams):
    from kehu.customers.services import create_customer

    for i in range(3):
        create_customer(users["admin"], {"name": f"Firm {i}"}, owner=users["sales2"])
    for field in SORTS.values():
        qs = sort_key(Customer.objects.all(), field)
        first = keyset_page(qs, sort=field, limit=1)
        second = keyset_page(qs, sort=field, limit=1, cursor=first.next_cursor)
        assert not second.cursor_refused and second.has_previous, field
        assert second.items[0].pk != first.items[0].pk, field


# Fuzzing ----------------------------------------------------------------------------------

json_leaf = (st.none() | st.booleans() | st.integers() | st.floats() | st.text()
             | st.datetimes().map(lambda d: d.isoformat()))
offsets = st.sampled_from(["", "Z", "+00:00", "+05:00", "-05:00", "+14:00", "-14:00", "+23:59"])
forged_value = st.one_of(
    json_leaf,
    st.builds(lambda d, o: {"dt": d.isoformat() + o}, st.datetimes(), offsets),
    st.builds(lambda d: {"d": d.isoformat()}, st.dates()),
    st.dictionaries(st.sampled_from(["dt", "d", "x"]), json_leaf, max_size=2),
    st.lists(json_leaf, max_size=3),
)
forged_position = st.one_of(
    st.tuples(forged_value, st.integers() | json_leaf).map(list),
    st.lists(forged_value, max_size=4),
    forged_value,
)
any_cursor = st.one_of(
    forged_position.map(cursor_of),
    st.text(max_size=60),
    st.binary(max_size=60).map(lambda b: base64.urlsafe_b64encode(b).decode()),
)

FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(cursor=any_cursor)
def test_the_decoder_never_raises(cursor):
    position = _decode(cursor)
    assert position is None or (isinstance(position, tuple) and isinstance(position[1], int))


@pytest.mark.parametrize(("model", "sort"), LISTS, ids=[f"{m.__name__}.{s}" for m, s in LISTS])
@FUZZ
@given(cursor=any_cursor, descending=st.booleans())
def test_any_cursor_gives_a_page_or_the_first_page(records, model, sort, cursor, descending):
    qs = sort_key(model.objects.all(), sort) if model is Customer else model.objects.all()
    page = keyset_page(qs, sort=sort, descending=descending, cursor=cursor, limit=2)
    if page.cursor_refused:
        first = keyset_page(qs, sort=sort, descending=descending, limit=2)
        assert [r.pk for r in page.items] == [r.pk for r in first.items]
        assert not page.has_previous
    else:
        assert page.has_previous == bool(cursor)


def test_an_aware_time_far_from_utc_is_still_a_position(teams, users):
    """Times near the ends of the calendar are fine while they stay in range in UTC."""
    from kehu.customers.services import create_customer

    create_customer(users["admin"], {"name": "Firm"}, owner=users["sales2"])
    late = datetime(9999, 12, 31, 10, 0, tzinfo=UTC).isoformat()
    page = keyset_page(Customer.objects.all(), sort="created_at",
                       cursor=cursor_of([{"dt": late}, 1]))
    assert not page.cursor_refused and page.items == []


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", ["name_sort", "created_at", "city"])
def test_a_page_found_by_its_keys_is_the_page_read_whole(records, sort, descending):
    """keys_within finds a page's keys inside the context it is given, then reads the rows
    after it: the same rows, in the same order, with the same cursors and annotations."""
    from contextlib import contextmanager

    from django.db.models import Exists, OuterRef

    entered = []

    @contextmanager
    def inside():
        entered.append(True)
        yield

    qs = Customer.objects.select_related("owner").annotate(
        has_transactions=Exists(Transaction.objects.filter(customer=OuterRef("pk"))))
    whole, keys, cursor = [], [], None
    while True:
        a = keyset_page(qs, sort=sort, descending=descending, cursor=cursor, limit=2)
        b = keyset_page(qs, sort=sort, descending=descending, cursor=cursor, limit=2,
                        keys_within=inside)
        whole.append([(c.pk, c.owner, c.has_transactions) for c in a.items])
        keys.append([(c.pk, c.owner, c.has_transactions) for c in b.items])
        assert (a.next_cursor, a.count, a.has_previous) == (b.next_cursor, b.count,
                                                             b.has_previous)
        cursor = a.next_cursor
        if not cursor:
            break
    assert whole == keys and len(entered) == len(keys) >= 2
    assert any(has for page in keys for _pk, _owner, has in page)


def test_a_row_gone_between_its_key_and_its_read_is_left_out(records):
    from contextlib import contextmanager

    listed = Customer.objects.exclude(name="(merged)")
    first = keyset_page(listed, sort="name_sort", limit=3)
    gone = first.items[1]

    @contextmanager
    def then_merged_away():
        yield
        Customer.objects.filter(pk=gone.pk).update(name="(merged)")

    page = keyset_page(listed, sort="name_sort", limit=3, keys_within=then_merged_away)
    assert [c.pk for c in page.items] == [first.items[0].pk, first.items[2].pk]
    assert page.next_cursor == first.next_cursor
