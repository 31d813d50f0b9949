"""Shared fixtures: two teams, a user for each role, customers owned across teams."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

# Two shared cores: generating examples may be slow while other tests run, which says
# nothing about kehu. Each test's own example count and bounds still apply.
settings.register_profile("kehu", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("kehu")

PASSWORD = "kehu-test-password"


@pytest.fixture(scope="session", autouse=True)
def _test_settings(tmp_path_factory):
    """Session-wide, so that the live server (whose middleware reads settings once, at start)
    sees them too."""
    from django.test import override_settings

    with override_settings(
        # Real hashing costs ~0.2 s per user, and nothing here checks the hashing itself.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # The test client and the live server speak plain HTTP, as the demo does.
        SECURE_SSL_REDIRECT=False, SESSION_COOKIE_SECURE=False, CSRF_COOKIE_SECURE=False,
        SECURE_HSTS_SECONDS=0,
        # Files uploaded to the import wizard go to a temporary folder, not the project's var/.
        KEHU_UPLOAD_DIR=tmp_path_factory.mktemp("uploads"),
    ):
        yield


@pytest.fixture(autouse=True)
def _english():
    """Each test starts in English: a request in Chinese earlier in the same worker would
    otherwise leave Chinese active for the thread (and for jobs started from it)."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


def empty_audit_log(django_db_blocker) -> None:
    """Tests whose data is committed (live server, background threads) end with a flush of
    the test database. On SQLite the flush is a DELETE, which the audit log's append-only
    triggers refuse (PostgreSQL's TRUNCATE does not fire them). Empty the log with the
    triggers lifted, then put them back, before the flush runs."""
    import importlib

    from django.db import connection

    if connection.vendor != "sqlite":
        return
    # The newest definition of the triggers (0003 allows redaction of details).
    triggers = importlib.import_module("kehu.audit.migrations.0003_redaction")
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        for sql in triggers.SQLITE_REVERSE:
            cursor.execute(sql)
        cursor.execute("DELETE FROM audit_auditevent")
        for sql in triggers.SQLITE:
            cursor.execute(sql)


@pytest.fixture
def committed_db(transactional_db, django_db_blocker):
    """A database whose writes are committed, so that background job threads (with their
    own connections) and other processes see them."""
    yield
    empty_audit_log(django_db_blocker)


@pytest.fixture
def job_worker():
    """A `kehu worker` loop in a thread of this process while the test runs, for tests that
    drive pages which queue jobs (live server, htmx polling). The jobs' data must be
    committed (committed_db or live_server); tests that need no parallel worker call
    kehu.core.worker.run_pending() instead."""
    import threading

    from kehu.core.worker import Loop, serve, worker_name

    loop = Loop(name=worker_name(99), interval=0.1)
    thread = threading.Thread(target=serve, args=(loop,), name="kehu-test-worker",
                              daemon=True)
    thread.start()
    yield loop
    loop.stop()
    thread.join(60)


def database_url() -> str:
    """The URL of the test database, for a `kehu` process started by a test."""
    import os
    from urllib.parse import urlsplit, urlunsplit

    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    # The server's address from the suite's own URL, with the test database's name.
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + s["NAME"]))


def kehu_env(tmp_path, **extra: str) -> dict[str, str]:
    """The environment of a `kehu` process started by a test: the test database, the test's
    upload folder, its own var/."""
    import os

    from django.conf import settings

    return dict(os.environ, DATABASE_URL=database_url(), DJANGO_SETTINGS_MODULE="kehu.settings",
                KEHU_VAR_DIR=str(tmp_path), KEHU_UPLOAD_DIR=str(settings.KEHU_UPLOAD_DIR),
                **extra)


@pytest.fixture
def teams(db):
    from kehu.accounts.models import Team

    return {"east": Team.objects.create(name="East 华东"),
            "north": Team.objects.create(name="North 华北")}


@pytest.fixture
def users(teams):
    """One user per role in team East, plus sales and manager in team North."""
    from kehu.accounts.models import User
    from kehu.core.roles import Role

    def make(username, role, team):
        return User.objects.create_user(username=username, password=PASSWORD, role=role,
                                        team=team, first_name=username)

    return {
        "admin": make("admin", Role.ADMIN, None),
        "manager1": make("manager1", Role.MANAGER, teams["east"]),
        "sales1": make("sales1", Role.SALES, teams["east"]),
        "sales1b": make("sales1b", Role.SALES, teams["east"]),
        "service1": make("service1", Role.SERVICE, teams["east"]),
        "marketing1": make("marketing1", Role.MARKETING, teams["east"]),
        "analyst1": make("analyst1", Role.ANALYST, teams["east"]),
        "manager2": make("manager2", Role.MANAGER, teams["north"]),
        "sales2": make("sales2", Role.SALES, teams["north"]),
    }


@pytest.fixture
def customers(users):
    """Customers owned by sales1, sales1b (same team) and sales2 (other team)."""
    from kehu.customers.services import create_customer

    admin = users["admin"]
    return {
        "east": create_customer(admin, {"name": "上海华东贸易有限公司", "phone": "+86 21-5555-0101",
                                        "email": "info@huadong.example", "city": "上海",
                                        "credit_rating": "good"}, owner=users["sales1"]),
        "east_b": create_customer(admin, {"name": "Hangzhou Silk Co., Ltd.", "city": "杭州"},
                                  owner=users["sales1b"]),
        "north": create_customer(admin, {"name": "北京华北机械厂", "phone": "010-6666-0202",
                                         "city": "北京"}, owner=users["sales2"]),
    }


@pytest.fixture
def loan_requests(users, customers) -> dict:
    """An open request to borrow each customer, by a user of no team and none of the roles
    the permission matrices try: none of those roles may act on the request as its borrower,
    and nobody sees a customer through it."""
    from kehu.accounts.models import Role, User
    from kehu.loans.services import request_loan

    asker = User.objects.create_user(username="asker", password=PASSWORD, role=Role.SALES,
                                     first_name="asker")
    return {key: request_loan(asker, customer.name, "A caller asked about an order")
            for key, customer in customers.items()}


def pytest_configure(config):
    """SQLite tests use a database file, as kehu does in production, instead of Django's
    shared in-memory database: background jobs run in threads with their own connections,
    which need SQLite's real file locking (WAL) to behave as they do for users."""
    import os
    import tempfile

    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        name = os.path.join(tempfile.gettempdir(), f"kehu-test-{os.getpid()}.sqlite3")
        db.setdefault("TEST", {})["NAME"] = name


def make_leads(users, customers) -> dict:
    """A lead per customer, referred by it and owned by its owner (for the generated
    checks that need a lead id per scope)."""
    from kehu.sales.leads.services import create_lead

    return {key: create_lead(users["admin"], {"name": f"Lead from {key}",
                                              "source": "referral"},
                             owner=customer.owner, referrer=customer,
                             judgements={"money": (True, ""), "authority": (False, ""),
                                         "need": (True, "")})
            for key, customer in customers.items()}


def make_campaigns(users, customers) -> dict:
    """A frozen target list and a launched campaign for each customer (owned by marketing1
    for East, manager1 for East B, manager2 for North), each holding that customer alone,
    for the generated checks that need a campaign and a list per scope: a campaign is seen
    by its owner's scope and by whoever sees a customer it reached."""
    import datetime

    from kehu.marketing.campaigns import services

    owners = {"east": "marketing1", "east_b": "manager1", "north": "manager2"}
    out = {}
    for key in customers:
        owner = users[owners.get(key, "admin")]
        # The fixture customers are each in a city of their own: the list holds just one.
        target_list = services.create_target_list(owner, {"name": f"List for {key}"},
                                                  criteria={"city": customers[key].city},
                                                  kind="frozen")
        campaign = services.create_campaign(
            owner, {"name": f"Campaign for {key}", "kind": "sales_promotion",
                    "starts_on": datetime.date(2026, 1, 1), "channels": ["post"],
                    "holdout_percent": 0, "goal": f"Goal of {key}"},
            target_list=target_list)
        out[key] = {"target_list": target_list,
                    "campaign": services.launch_campaign(owner, campaign)}
    return out


def make_offer_lists(users, customers) -> dict:
    """An offer list per customer with one item and a coupon (for the generated checks that
    need an offer list id per scope)."""
    import datetime
    from decimal import Decimal

    from kehu.customers.models import Product
    from kehu.marketing.offers.models import Coupon, OfferItem, OfferList

    product, _new = Product.objects.get_or_create(code="OFFER-TEA", defaults={
        "name": "Green tea", "unit_price": Decimal("12.00")})
    out = {}
    for n, (key, customer) in enumerate(customers.items(), start=1):
        day = datetime.date(2024, 5, 1)
        offer_list = OfferList.objects.create(customer=customer, as_of=day, spend=Decimal("150"),
                                              valid_until=day + datetime.timedelta(days=14))
        OfferItem.objects.create(offer_list=offer_list, position=1, kind="due", product=product,
                                 price=product.unit_price, last_bought=day, rhythm_days=7,
                                 purchase_days=4, due_on=day + datetime.timedelta(days=7))
        Coupon.objects.create(code=f"KH-FIXT-{n:04d}", customer=customer, offer_list=offer_list,
                              tier_name="Gold", discount_percent=15, valid_from=day,
                              valid_until=day + datetime.timedelta(days=28))
        out[key] = offer_list
    return out


@pytest.fixture
def children(users, customers) -> dict:
    """A contact, a transaction, an activity, a task and a receivable on each customer."""
    import datetime

    from kehu.customers.services import create_contact, create_transaction
    from kehu.sales.credit.services import create_receivable
    from kehu.sales.pipeline.models import Stage
    from kehu.sales.pipeline.services import create_opportunity
    from kehu.sales.services import log_activity
    from kehu.service.tickets.services import open_ticket
    from kehu.tasks.services import add_task

    admin = users["admin"]
    out = {}
    for key, customer in customers.items():
        out[key] = {
            "contact": create_contact(admin, customer, {"name": f"Contact of {key}",
                                                        "personal_interests": "golf"}),
            "transaction": create_transaction(admin, customer, date=datetime.date(2024, 5, 1),
                                              amount="100.00", cost="60.00"),
            "activity": log_activity(admin, customer, kind="call", subject=f"Call {key}"),
            "task": add_task(admin, customer, title=f"Visit {key}"),
            "opportunity": create_opportunity(
                admin, customer, title=f"Deal with {key}", stage=Stage.objects.first(),
                amount="1000.00", expected_close=datetime.date(2027, 1, 31)),
            "ticket": open_ticket(admin, customer, subject=f"Ticket of {key}",
                                  description=f"What {key} said"),
        }
        out[key]["receivable"] = create_receivable(
            admin, customer, issued_on=datetime.date(2024, 5, 1), amount="100.00",
            number=f"INV-{key}", transaction_id=out[key]["transaction"].pk)
    return out


@pytest.fixture
def plan_records(users, customers) -> dict:
    """A key-account plan on each customer, with a competitor on its sheet and a step of
    its action plan (a task for the customer's owner)."""
    import datetime

    from kehu.sales.plans import services as plans

    admin = users["admin"]
    out = {}
    for key, customer in customers.items():
        plan = plans.create_plan(admin, customer, {"objectives": f"Grow {key}"})
        out[key] = {
            "account_plan": plan,
            "plan_competitor": plans.add_competitor(admin, plan, new_name=f"Rival of {key}"),
            "plan_step": plans.add_step(admin, plan, title=f"Meet {key}",
                                        owner=customer.owner,
                                        due_on=datetime.date(2030, 1, 1)),
        }
    return out


def make_consents(users, customers) -> dict:
    """Consent to e-mail given by each customer (for the generated checks that need a
    consent id per scope)."""
    from kehu.marketing.consent.services import set_consent

    return {key: set_consent(users["admin"], customer, channel="email", status="given",
                             source="form")
            for key, customer in customers.items()}
