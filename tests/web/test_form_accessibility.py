"""Field errors are tied to their inputs on every form page, generated from the URL resolver.

Every page is opened (the customer card in each of its tabs), every form on it that has a
field to fill is sent back with bad values — required fields empty, numbers and dates that
are not, choices that do not exist — and the answer is read as HTML:

- an input marked aria-invalid="true" names its error message in aria-describedby;
- every field's error list is named by the aria-describedby of an input;
- every id named in an aria-describedby exists on the page (help texts included);
- the list of errors at the top of a form links to inputs that exist;
- bad input never answers 500.

A URL added later is covered without editing this file; a URL parameter this file does not
know makes it fail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import get_resolver, reverse

from tests.api.test_web_authorization_matrix import _walk

# Form markup is the same whatever the database: checked once, on SQLite.
pytestmark = [pytest.mark.django_db, pytest.mark.one_database]

# Pages whose forms show field errors when sent with bad values. The test fails if one of
# them stops doing so (the check above would then be vacuous for it).
EXPECTED = {
    "api_tokens", "password_change", "audit:events", "customers:list", "customers:create",
    "customers:edit", "customers:contact_create", "customers:contact_edit",
    "customers:transaction_create", "customers:card?tab=activities", "loans:request",
    "loans:detail", "loans:register", "dataio:import", "dataio:import_columns",
    "dataio:export", "analytics:settings", "service:chain_settings",
    "service:survey_create", "service:survey_answer", "service:sla_hours",
    "service:sla_targets", "service:sla_customer_group",
    "marketing:campaign_create", "marketing:target_list_create",
    "service:article_create", "service:article_edit",
    "marketing:offer_settings", "marketing:coupon_tier",
}
# URLs whose pages are not for a signed-in user's forms.
SKIPPED = {"logout": "signs out", "set_language": "a redirect",
           "core:job": "a background job's progress: no form"}

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()

    def content(self) -> str:
        return "".join(self.text) + "".join(c.content() for c in self.children)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#root", {})

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text.append(data)


def parse(html: str) -> Node:
    parser = _Parser()
    parser.feed(html)
    return parser.root


INPUTS = {"input", "select", "textarea"}


def problems_of(root: Node) -> tuple[list[str], list[str]]:
    """(names of the invalid inputs, what is wrong) on one page."""
    nodes = list(root.walk())
    by_id = {n.attrs["id"]: n for n in nodes if n.attrs.get("id")}
    described = set()
    invalid, problems = [], []
    for n in nodes:
        refs = n.attrs.get("aria-describedby", "").split()
        described.update(refs)
        for ref in refs:
            if ref not in by_id:
                problems.append(f"<{n.tag} name={n.attrs.get('name')}> aria-describedby names "
                                f"#{ref}, which is not on the page")
        if n.attrs.get("aria-invalid") == "true":
            invalid.append(n.attrs.get("name", n.attrs.get("id", n.tag)))
            errors = [by_id[r] for r in refs if r in by_id and "errorlist" in by_id[r].classes]
            if not any(e.content().strip() for e in errors):
                problems.append(f"<{n.tag} name={n.attrs.get('name')}> is invalid but its "
                                "aria-describedby names no error message")
    for n in nodes:
        if (n.tag == "ul" and "errorlist" in n.classes and "nonfield" not in n.classes
                and n.attrs.get("id") not in described):
            problems.append(f"a field's errors ({n.content().strip()[:60]!r}) are not named "
                            "by any input's aria-describedby")
        if n.tag == "a" and n.attrs.get("href", "").startswith("#") and any(
                "error-summary" in a.classes for a in _ancestors(n)):
            target = by_id.get(n.attrs["href"][1:])
            if target is None or target.tag not in INPUTS:
                problems.append(f"the error list links to {n.attrs['href']}, not an input")
    return invalid, problems


def _ancestors(node: Node):
    while node.parent is not None:
        node = node.parent
        yield node


# Sending forms back with bad values -----------------------------------------------------------

BAD = {"number": "not a number", "date": "2024-02-31", "email": "not an e-mail",
       "datetime-local": "yesterday"}


def bad_values(form: Node) -> dict[str, str] | None:
    """What a careless user sends: required fields empty, numbers and dates that are not,
    choices that do not exist; boxes unticked, no file. None for a form with nothing to fill
    (a button: deleting, confirming, signing out…)."""
    data, fillable = {}, False
    for n in form.walk():
        name = n.attrs.get("name")
        if not name or "disabled" in n.attrs:
            continue
        if n.tag == "input":
            kind = n.attrs.get("type", "text")
            if kind in {"submit", "button", "reset", "image"}:
                continue
            if kind == "hidden":
                data[name] = n.attrs.get("value", "")
                continue
            fillable = True
            if kind not in {"checkbox", "radio", "file"}:
                data[name] = BAD.get(kind, "")
        elif n.tag == "textarea":
            fillable, data[name] = True, ""
        elif n.tag == "select":
            fillable, data[name] = True, "not-a-choice"
    return data if fillable else None


def forms_of(root: Node) -> list[Node]:
    return [n for n in root.walk() if n.tag == "form"]


@dataclass
class Seen:
    pages: int = 0
    forms: int = 0
    sent: set = field(default_factory=set)  # each form once (the language switch is on all)
    invalid: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def check(response, where: str, seen: Seen, client: Client) -> Node | None:
    assert response.status_code < 500, (where, response.status_code)
    if response.status_code in (301, 302):
        response = client.get(response["Location"])
        assert response.status_code < 500, (where, response.status_code)
    if not response.get("Content-Type", "").startswith("text/html"):
        return None
    root = parse(response.content.decode())
    invalid, problems = problems_of(root)
    if invalid:
        seen.invalid[where] = seen.invalid.get(where, 0) + len(invalid)
    seen.problems += [f"{where}: {p}" for p in problems]
    return root


def send_back(client: Client, page_url: str, where: str, root: Node, seen: Seen) -> None:
    for form in forms_of(root):
        data = bad_values(form)
        action = urljoin(page_url, form.attrs.get("action") or page_url)
        signature = (urlsplit(action).path, tuple(sorted(data or ())))
        if data is None or signature in seen.sent:
            continue
        seen.sent.add(signature)
        seen.forms += 1
        if form.attrs.get("method", "get").lower() == "post":
            response = client.post(action, data)
        else:
            query = {k: v for k, v in parse_qsl(urlsplit(action).query)} | data
            response = client.get(urlsplit(action).path, query)
        check(response, f"{where} → {form.attrs.get('action') or 'itself'}", seen, client)
        # Errors count for the page whose form was sent.
        key = f"{where} → {form.attrs.get('action') or 'itself'}"
        if key in seen.invalid:
            seen.invalid[where] = seen.invalid.get(where, 0) + seen.invalid.pop(key)


# The pages ----------------------------------------------------------------------------------

@pytest.fixture
def admin_client(users):
    admin = users["admin"]
    admin.privacy_officer = True
    admin.save(update_fields=["privacy_officer"])
    client = Client()
    client.force_login(admin)
    return client


@pytest.fixture
def params(users, customers, children, loan_requests, admin_client,
           plan_records) -> dict[str, object]:
    """A value for each URL parameter, by parameter name or by "url name:parameter"."""
    from kehu.accounts.tokens import create_token
    from kehu.customers.services import create_customer
    from kehu.dataio.models import CustomerPair, ImportBatch
    from kehu.dataio.quality import dedup
    from kehu.marketing.consent.links import unsubscribe_token
    from kehu.sales.models import Competitor
    from kehu.sales.pipeline.models import Stage

    admin, east = users["admin"], customers["east"]
    create_customer(admin, {"name": east.name, "phone": east.phone}, owner=users["sales1"])
    dedup.scan()
    upload = admin_client.post(reverse("dataio:import"), {
        "kind": "customers",
        "file": SimpleUploadedFile("客户.csv", "客户名称,手机\n一号客户,13800000001\n".encode())})
    assert upload.status_code == 302, upload.content[:300]
    token, _raw = create_token(admin, "tests")
    from kehu.sales.leads.services import create_lead
    from kehu.service.tickets.models import TicketCategory

    lead = create_lead(users["sales1"], {"name": "展会线索", "source": "exhibition"})
    from kehu.service.surveys import links
    from kehu.service.surveys.services import send_survey
    from tests.service.surveys_factory import make_survey

    survey = make_survey(admin)
    invitation = send_survey(admin, survey, east).invitation
    from tests.conftest import make_campaigns

    campaigns = make_campaigns(users, customers)["east"]
    from kehu.service.knowledge.services import create_article

    article = create_article(admin, {"title": "打印机卡纸", "problem": "卡纸", "solution": "清理"})
    return {
        "article_pk": article.pk,
        "survey_pk": survey.pk,
        "survey_token": links.token_for(invitation.pk, invitation.nonce),
        "lead_pk": lead.pk,
        "campaign_pk": campaigns["campaign"].pk, "list_pk": campaigns["target_list"].pk,
        "pk": east.pk, "contact_pk": children["east"]["contact"].pk,
        "txn_pk": children["east"]["transaction"].pk,
        "activity_pk": children["east"]["activity"].pk,
        "task_pk": children["east"]["task"].pk,
        "receivable_pk": children["east"]["receivable"].pk,
        "loan_pk": loan_requests["east"].pk,
        "plan_pk": plan_records["east"]["account_plan"].pk,
        "sheet_pk": plan_records["east"]["plan_competitor"].pk,
        "step_pk": plan_records["east"]["plan_step"].pk,
        "opportunity_pk": children["east"]["opportunity"].pk,
        "ticket_pk": children["east"]["ticket"].pk,
        "category_pk": TicketCategory.objects.first().pk,
        "stage_pk": Stage.objects.first().pk,
        "holiday_pk": _holiday().pk,
        "competitor_pk": Competitor.objects.get_or_create(name="Rival")[0].pk,
        "upload_id": re.search(r"/import/([0-9a-f-]{36})/", upload["Location"]).group(1),
        "batch_id": ImportBatch.objects.create(kind="customers", file_name="x.csv",
                                               created_by=admin).pk,
        "pair_id": CustomerPair.objects.get().pk,
        "duplicate_pair:kind": "customers", "duplicate_dismiss:kind": "customers",
        "activity_cost:kind": "visit", "segment": "invest", "table": "segments",
        "what": "scan", "api_token_revoke:pk": token.pk, "key": "at_risk",
        "token": unsubscribe_token(east.pk),
        "tier_pk": _coupon_tier().pk,
    }


def _holiday():
    import datetime as dt

    from kehu.service.sla.models import Holiday

    return Holiday.objects.get_or_create(day=dt.date(2026, 10, 1),
                                         defaults={"name_en": "National Day"})[0]


def _coupon_tier():
    from kehu.marketing.offers.models import CouponTier
    from tests.marketing.conftest import ensure_coupon_tiers

    ensure_coupon_tiers()
    return CouponTier.objects.order_by("pk").first()


def _pages(params: dict) -> list[tuple[str, str]]:
    out = []
    for name, names, _route in _walk(get_resolver().url_patterns):
        if name in SKIPPED:
            continue
        short = name.rsplit(":", 1)[-1]
        kwargs = {}
        for p in names:
            value = params.get(f"{short}:{p}", params.get(p))
            if value is None:
                pytest.fail(f"{name}: URL parameter {p} is unknown to this test; add it to "
                            "params or the URL to SKIPPED")
            kwargs[p] = value
        out.append((name, reverse(name, kwargs=kwargs)))
    return out


def test_field_errors_are_tied_to_their_inputs_on_every_form_page(admin_client, params):
    seen = Seen()
    queue = _pages(params)
    done = set()
    while queue:
        where, url = queue.pop(0)
        if url in done:
            continue
        done.add(url)
        response = admin_client.get(url)
        if response.status_code != 200:
            continue
        root = check(response, where, seen, admin_client)
        if root is None:
            continue
        seen.pages += 1
        # The card's tabs are pages of their own.
        for a in root.walk():
            href = a.attrs.get("href", "") if a.tag == "a" else ""
            if href.startswith("?tab="):
                queue.append((f"{where}{href}", urlsplit(url).path + href))
        send_back(admin_client, url, where, root, seen)
    assert not seen.problems, "\n".join(seen.problems)
    missing = EXPECTED - set(seen.invalid)
    assert not missing, (f"these pages no longer show field errors for bad input: {missing}; "
                         f"pages that did: {sorted(seen.invalid)}")
    assert seen.pages >= 35 and seen.forms >= 25, (seen.pages, seen.forms)


def test_the_check_finds_an_untied_error():
    """The check above can fail: an error list nobody points at, an invalid input whose
    description is missing, a help text without its id."""
    page = parse("""
      <form><input name="a" aria-invalid="true" aria-describedby="id_a_error">
      <ul class="errorlist"><li>Wrong.</li></ul>
      <input name="b" aria-describedby="id_b_helptext"><div class="help">Help</div>
      <div class="error-summary"><a href="#id_c">C</a></div></form>""")
    invalid, problems = problems_of(page)
    assert invalid == ["a"]
    assert len(problems) == 5, problems


def test_the_login_form_ties_its_errors(client, users):
    response = client.post(reverse("login"), {"username": "", "password": ""})
    invalid, problems = problems_of(parse(response.content.decode()))
    assert set(invalid) == {"username", "password"} and not problems


def test_a_transaction_lines_errors_are_listed_at_the_top_with_links(users, customers):
    client = Client()
    client.force_login(users["admin"])
    url = reverse("customers:transaction_create", args=[customers["east"].pk])
    response = client.post(url, {
        "kind": "order", "date": "2024-05-01", "amount": "", "cost": "",
        "lines-TOTAL_FORMS": "2", "lines-INITIAL_FORMS": "0", "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000", "lines-1-description": "Bolts",
        "lines-1-quantity": "x"})
    assert response.status_code == 400
    root = parse(response.content.decode())
    invalid, problems = problems_of(root)
    assert not problems and "lines-1-quantity" in invalid
    summary = next(n for n in root.walk() if "error-summary" in n.classes)
    assert "Line 2: Quantity" in summary.content()
    link = next(n for n in summary.walk() if n.attrs.get("href") == "#id_lines-1-quantity")
    assert link is not None
