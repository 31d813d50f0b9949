"""The refresh chooses its purchase model by the holdout: the comparison is kept on the
refresh, read through the API and shown to analysts; a pinned model wins whatever the
holdout says; a model that cannot be fitted does not stop the refresh."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from kehu.analytics.models import CustomerValue, ValueSettings
from kehu.analytics.refresh import refresh_values
from kehu.value import ValueModelError
from kehu.value.paretonbd import ParetoNBDModel
from tests.analytics.test_refresh import AS_OF, firm  # noqa: F401

MODELS = {"bgnbd", "mbgnbd", "pareto_nbd"}


def _errors(run) -> dict[str, float]:
    return {n: c["holdout_error"] for n, c in run.model_selection["candidates"].items()}


def test_a_refresh_keeps_the_comparison_of_three_models_and_scores_with_the_best(firm, users):  # noqa: F811
    run = refresh_values(users["admin"], as_of=AS_OF)
    sel = run.model_selection
    assert set(sel["candidates"]) == MODELS
    errors = _errors(run)
    assert all(isinstance(e, float) and e >= 0 for e in errors.values())
    assert sel["chosen"] == min(errors, key=errors.get) and sel["pinned"] is False
    assert sel["used"] == sel["chosen"] == run.fit["purchases"]["model"]
    # Two years of history: 34 weeks held out, weekly periods, the cohort before it.
    assert sel["holdout_weeks"] == 34 and sel["period_days"] == 7
    assert sel["periods"][-1] == AS_OF.isoformat()
    assert len(sel["actual"]) == len(sel["periods"])
    for cand in sel["candidates"].values():
        assert cand["error"] is None and cand["loglik"] < 0 and cand["fit_seconds"] > 0
        assert len(cand["params"]) == 4 and len(cand["predicted"]) == len(sel["periods"])
    assert not [w for w in run.warnings if w["code"] in {"model_selection_failed",
                                                           "chosen_model_failed"}]


def test_the_api_gives_the_comparison(api, firm, users):  # noqa: F811
    run = refresh_values(users["admin"], as_of=AS_OF)
    body = api("analyst1").get("/value/refresh").json()
    sel = body["model_selection"]
    assert sel["chosen"] in MODELS and sel["pinned"] is False
    assert set(sel["candidates"]) == MODELS
    errors = {n: c["holdout_error"] for n, c in sel["candidates"].items()}
    assert sel["chosen"] == min(errors, key=errors.get)
    assert all(isinstance(e, float) for e in errors.values())
    assert sel == run.model_selection
    assert api("sales1").get("/value/refresh").status_code == 403


def test_a_pinned_model_is_used_even_when_another_forecasts_better(firm, users):  # noqa: F811
    first = refresh_values(users["admin"], as_of=AS_OF)
    errors = _errors(first)
    worst = max(errors, key=errors.get)
    settings = ValueSettings.current()
    settings.model = {"pareto_nbd": "pareto-nbd"}.get(worst, worst)
    settings.save()
    run = refresh_values(users["admin"], as_of=AS_OF)
    sel = run.model_selection
    assert sel["chosen"] == sel["used"] == worst and sel["pinned"] is True
    assert run.fit["purchases"]["model"] == worst
    assert min(_errors(run).values()) < _errors(run)[worst]  # the comparison still shows it


def test_a_model_that_cannot_be_fitted_does_not_stop_the_refresh(firm, users, monkeypatch):  # noqa: F811
    def refuse(self, *args, **kwargs):
        raise ValueModelError("Pareto/NBD: the optimiser did not converge from any start")

    monkeypatch.setattr(ParetoNBDModel, "fit", refuse)
    run = refresh_values(users["admin"], as_of=AS_OF)
    assert run.status == "done"
    pareto = run.model_selection["candidates"]["pareto_nbd"]
    assert pareto["holdout_error"] is None and "did not converge" in pareto["error"]
    assert pareto["params"] is None
    assert run.model_selection["chosen"] in {"bgnbd", "mbgnbd"}
    assert CustomerValue.objects.filter(p_alive__isnull=False).count() > 100


def test_when_no_model_can_be_compared_the_refresh_says_so_and_still_scores(
        firm, users, monkeypatch):  # noqa: F811
    from kehu.analytics import refresh

    original = refresh.compare

    def only_pareto_and_it_fails(*args, **kwargs):
        class Refused(ParetoNBDModel):
            def fit(self, *a, **k):
                raise ValueModelError("Pareto/NBD: refused")
        return original(*args, models=(Refused,), **kwargs)

    monkeypatch.setattr(refresh, "compare", only_pareto_and_it_fails)
    run = refresh_values(users["admin"], as_of=AS_OF)
    assert run.status == "done"
    warning = next(w for w in run.warnings if w["code"] == "model_selection_failed")
    assert "could not be compared on a holdout, so BG/NBD is used" in warning["message"]
    assert "Pareto/NBD: refused" in warning["message"]
    assert run.model_selection["chosen"] is None and run.model_selection["used"] == "bgnbd"
    assert CustomerValue.objects.filter(p_alive__isnull=False).count() > 100
    # Realised value is there either way.
    assert CustomerValue.objects.get(customer=firm["b"]).net_contribution == 200


def _client(users, name: str) -> Client:
    client = Client()
    client.force_login(users[name])
    return client


def test_analysts_see_the_comparison_with_its_tables_and_csv(firm, users):  # noqa: F811
    run = refresh_values(users["admin"], as_of=AS_OF)
    chosen = run.model_selection["chosen"]
    page = _client(users, "analyst1").get(reverse("analytics:models"))
    assert page.status_code == 200
    body = page.content.decode()
    for label in ("BG/NBD", "MBG/NBD", "Pareto/NBD"):
        assert label in body
    assert 'data-chart="holdout"' in body and 'id="value-charts"' in body
    assert "which forecast the holdout best" in body
    models = list(csv.reader(io.StringIO(_client(users, "analyst1").get(
        reverse("analytics:table_csv", args=["models"])).content.decode("utf-8-sig"))))
    assert models[0][:2] == ["Model", "Holdout error"]
    status = {row[0]: row[-1] for row in models[1:]}
    label = run.model_selection["candidates"][chosen]["label"]
    assert status[label] == "Chosen" and len(status) == 3
    curve = list(csv.reader(io.StringIO(_client(users, "analyst1").get(
        reverse("analytics:table_csv", args=["repeat_purchases"])).content.decode("utf-8-sig"))))
    assert curve[0] == ["Period end", "Part", "Actual", "BG/NBD", "MBG/NBD", "Pareto/NBD"]
    assert len(curve) == 1 + len(run.model_selection["periods"])
    assert curve[-1][0] == AS_OF.isoformat() and curve[-1][1] == "Holdout"
    assert float(curve[-1][2]) == run.model_selection["actual"][-1]
    # Whoever may not see the value dashboard does not see this either.
    assert _client(users, "sales1").get(reverse("analytics:models")).status_code == 403


def test_the_settings_pin_a_model_or_leave_the_choice_to_the_holdout(users):
    assert ValueSettings.current().model == "auto"
    client = _client(users, "admin")
    page = client.get(reverse("analytics:settings")).content.decode()
    assert "Chosen by its holdout forecast (recommended)" in page


@pytest.mark.postgresql_only
def test_the_migration_lets_the_holdout_choose_unless_a_model_was_picked(transactional_db):
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    # The migration changes every row it finds, so one trip back (the slow part) checks
    # both cases: the old default hands the choice to the holdout, a model picked stays.
    cases = {1: ("bgnbd", "auto"), 2: ("pareto-nbd", "pareto-nbd")}
    executor = MigrationExecutor(connection)
    executor.migrate([("analytics", "0003_mbgnbd_choice")])
    old = executor.loader.project_state([("analytics", "0003_mbgnbd_choice")]).apps
    for pk, (stored, _after) in cases.items():
        old.get_model("analytics", "ValueSettings").objects.update_or_create(
            pk=pk, defaults={"model": stored})
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert {pk: ValueSettings.objects.get(pk=pk).model for pk in cases} == {
        pk: after for pk, (_stored, after) in cases.items()}


def _spy_compare(monkeypatch) -> list:
    """Counts the comparisons the refreshes make from now on."""
    from kehu.analytics import refresh

    calls, original = [], refresh.compare

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(refresh, "compare", counted)
    return calls


def _p_alive() -> dict[int, float]:
    return dict(CustomerValue.objects.filter(p_alive__isnull=False)
                .values_list("customer_id", "p_alive"))


def test_a_repeat_refresh_keeps_the_choice_and_scores_the_same(firm, users, monkeypatch):  # noqa: F811
    first = refresh_values(users["admin"], as_of=AS_OF)
    before = _p_alive()
    calls = _spy_compare(monkeypatch)
    run = refresh_values(users["admin"], as_of=AS_OF)
    assert calls == []  # the three models were not fitted again
    sel = run.model_selection
    assert sel["kept_from"] == first.pk and first.model_selection["kept_from"] is None
    assert sel["chosen"] == sel["used"] == first.model_selection["chosen"]
    assert sel["candidates"] == first.model_selection["candidates"]
    assert run.fit["purchases"]["model"] == first.fit["purchases"]["model"]
    for name, value in first.fit["purchases"]["params"].items():
        assert run.fit["purchases"]["params"][name] == pytest.approx(value, rel=1e-4)
    after = _p_alive()
    assert after.keys() == before.keys()
    assert all(after[pk] == pytest.approx(p, abs=1e-4) for pk, p in before.items())
    # A third refresh still names the refresh that compared.
    assert refresh_values(users["admin"], as_of=AS_OF).model_selection["kept_from"] == first.pk
    page = _client(users, "analyst1").get(reverse("analytics:models")).content.decode()
    assert f"This comparison was made by the refresh as of {AS_OF.isoformat()}" in page


def test_the_models_are_compared_again_a_month_later(firm, users, monkeypatch):  # noqa: F811
    import datetime as dt

    refresh_values(users["admin"], as_of=AS_OF)
    calls = _spy_compare(monkeypatch)
    refresh_values(users["admin"], as_of=AS_OF + dt.timedelta(days=28))
    assert calls == []
    run = refresh_values(users["admin"], as_of=AS_OF + dt.timedelta(days=29))
    assert calls == [1] and run.model_selection["kept_from"] is None
    assert run.model_selection["basis"]["as_of"] == (AS_OF + dt.timedelta(days=29)).isoformat()


def test_the_models_are_compared_again_when_the_purchases_change(firm, users, monkeypatch):  # noqa: F811
    import datetime as dt
    from decimal import Decimal

    from kehu.customers.models import Transaction

    first = refresh_values(users["admin"], as_of=AS_OF)
    days = first.model_selection["basis"]["purchase_days"]
    calls = _spy_compare(monkeypatch)
    # More than 5% new purchase days (an import of last month's orders, say).
    new = int(days * 0.06) + 1
    Transaction.objects.bulk_create([
        Transaction(customer=firm["sims"][i % len(firm["sims"])],
                    date=dt.date(2021, 11, 1) + dt.timedelta(days=i // len(firm["sims"])),
                    amount=Decimal("10.00"), cost=Decimal("6.00")) for i in range(new)])
    run = refresh_values(users["admin"], as_of=AS_OF)
    assert calls == [1] and run.model_selection["kept_from"] is None
    assert run.model_selection["basis"]["purchase_days"] > days
