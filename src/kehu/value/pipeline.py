"""The steps behind `kehu value fit|score|evaluate`, usable without the command line.

File -> integer-coded transactions -> RFM summary -> transaction model + Gamma-Gamma ->
scores. Each step is a function of arrays; the CLI only adds files, options and output.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from kehu.value._base import TransactionModel
from kehu.value._threads import MIN_SLICE, cores, in_order, map_slices, slices
from kehu.value.bgnbd import BetaGeoModel, ModifiedBetaGeoModel
from kehu.value.clv import clv_details
from kehu.value.errors import ValueModelError
from kehu.value.gamma_gamma import GammaGammaModel
from kehu.value.paretonbd import ParetoNBDModel
from kehu.value.readers import TransactionTable
from kehu.value.rfm import RFMSummary, summarise_codes, summary_from_aggregates, to_day

# CLI name -> model class; the JSON key of each model is its model_name ("pareto_nbd").
MODELS: dict[str, type[TransactionModel]] = {"bgnbd": BetaGeoModel,
                                             "mbgnbd": ModifiedBetaGeoModel,
                                             "pareto-nbd": ParetoNBDModel}
SCORE_COLUMNS = ("customer_id", "frequency", "recency", "T", "monetary_value", "p_alive",
                 "predicted_purchases", "predicted_avg_value", "clv")
# Customers per slice of the scores CSV formatted at once: a few MB of text in memory each.
WRITE_SLICE = 100_000


def summarise(table: TransactionTable, as_of: str, time_unit: str,
              calibration_end: str | None = None) -> RFMSummary:
    as_of_day = to_day(as_of, "--as-of")
    cal_day = None if calibration_end is None else to_day(calibration_end, "--calibration-end")
    if cal_day is not None and cal_day >= as_of_day:
        raise ValueModelError("--calibration-end must be before --as-of")
    agg = summarise_codes(table.codes, table.customer_ids.size, table.days, table.amounts,
                          as_of_day, cal_day)
    if agg.present.size == 0:
        raise ValueModelError(f"no customer made a purchase on or before "
                              f"{calibration_end or as_of}")
    return summary_from_aggregates(agg, table.customer_ids[agg.present], time_unit,
                                   None if cal_day is None else as_of_day - cal_day)


def fit_transaction_model(name: str, summary: RFMSummary) -> TransactionModel:
    return MODELS[name]().fit(summary.frequency, summary.recency, summary.T)


def fit_spend_model(summary: RFMSummary) -> GammaGammaModel:
    return GammaGammaModel().fit(summary.frequency, summary.monetary_value)


def fit_models(name: str, summary: RFMSummary) -> tuple[TransactionModel, GammaGammaModel]:
    """The transaction model and Gamma-Gamma, fitted at once on two threads (their
    likelihoods are numpy over every customer, which releases the GIL): the same fits as
    one after the other, in the time of the longer. A failure of the transaction model is
    reported first, as when they run in turn."""
    if len(summary) < MIN_SLICE or cores() == 1:
        return fit_transaction_model(name, summary), fit_spend_model(summary)
    with ThreadPoolExecutor(1) as pool:
        spend = pool.submit(fit_spend_model, summary)
        transactions = fit_transaction_model(name, summary)
        return transactions, spend.result()


def fit_report(name: str, summary: RFMSummary, model: TransactionModel,
               gg: GammaGammaModel | None) -> dict[str, Any]:
    """The JSON object `kehu value fit --json` prints."""
    report: dict[str, Any] = {"model": name, "customers": len(summary),
                              "time_unit": summary.time_unit,
                              model.model_name: {"params": model.params_,
                                                 "loglik": model.loglik_}}
    if gg is not None:
        report["gamma_gamma"] = {"params": gg.params_, "loglik": gg.loglik_,
                                 "customers": gg.n_customers_}
    return report


def _score_part(model: TransactionModel, gg: GammaGammaModel, s: RFMSummary, months: int,
                monthly_discount: float, sl: slice) -> dict[str, np.ndarray]:
    """The scores of the customers in one slice (elementwise: the same values as when
    scored with any others)."""
    details = clv_details(model, gg, s.frequency[sl], s.recency[sl], s.T[sl],
                          s.monetary_value[sl], months=months,
                          monthly_discount=monthly_discount, time_unit=s.time_unit)
    details["p_alive"] = model.p_alive(s.frequency[sl], s.recency[sl], s.T[sl])
    return {"frequency": s.frequency[sl].astype(np.int64), "recency": s.recency[sl],
            "T": s.T[sl], "monetary_value": s.monetary_value[sl],
            "p_alive": details["p_alive"],
            "predicted_purchases": details["predicted_purchases"],
            "predicted_avg_value": details["predicted_avg_value"], "clv": details["clv"]}


def score(model: TransactionModel, gg: GammaGammaModel, summary: RFMSummary, months: int,
          monthly_discount: float) -> dict[str, np.ndarray]:
    """One value per customer for each of SCORE_COLUMNS, slices of customers scored on
    the machine's cores at once (kehu.value._threads)."""
    s = summary

    def part(sl: slice) -> dict[str, np.ndarray]:
        return _score_part(model, gg, s, months, monthly_discount, sl)

    try:
        parts = map_slices(part, len(s))
    except ValueModelError:
        # Say how many customers of the whole base it concerns, not of one slice.
        parts = [part(slice(0, len(s)))]
    joined = {key: np.concatenate([p[key] for p in parts]) if len(parts) > 1 else parts[0][key]
              for key in parts[0]}
    return {"customer_id": s.customer_id, **joined}


def score_and_write(path: str | Path, model: TransactionModel, gg: GammaGammaModel,
                    summary: RFMSummary, months: int, monthly_discount: float) -> np.ndarray:
    """write_scores(path, score(...)) with each slice of customers scored and written by
    one thread (the cores score some slices while they write others); returns the CLV of
    every customer."""
    clv: dict[int, np.ndarray] = {}  # by the slice's first customer

    def part(sl: slice) -> dict[str, np.ndarray]:
        scores = _score_part(model, gg, summary, months, monthly_discount, sl)
        clv[sl.start] = scores["clv"]
        return scores

    try:
        _write(path, summary.customer_id, part)
    except ValueModelError:
        # Say how many customers of the whole base it concerns, not of one slice.
        score(model, gg, summary, months, monthly_discount)
        raise
    return np.concatenate([clv[start] for start in sorted(clv)]) if clv else np.zeros(0)


def write_scores(path: str | Path, columns: dict[str, np.ndarray]) -> None:
    """Write the scores CSV atomically: a temporary file next to it, renamed when complete,
    so a failure never leaves a half-written file (or touches an existing one)."""
    _write(path, columns["customer_id"],
           lambda sl: {name: columns[name][sl] for name in SCORE_COLUMNS[1:]})


def _write(path: str | Path, ids: np.ndarray,
           part: Callable[[slice], dict[str, np.ndarray]]) -> None:
    """The scores CSV of the customers `ids`, part(slice) giving the other SCORE_COLUMNS
    of a slice of them; written as write_scores says."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from kehu.value._arrow import needs_quotes, numeric_array, string_array

    path = Path(path)
    text_ids = ids.dtype.kind not in "iu"
    # Arrow quotes every string when asked to quote "as needed"; quote only if some id
    # really contains a delimiter, quote or line break.
    quote = text_ids and needs_quotes(ids)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        options = pacsv.WriteOptions(include_header=False,
                                     quoting_style="needed" if quote else "none")

        def text(sl: slice) -> bytes:
            # Formatting the numbers is most of the writing: slices formatted on every
            # core, written in order.
            columns = part(sl)
            table = pa.table({"customer_id": string_array(ids[sl]) if text_ids
                              else numeric_array(ids[sl]),
                              **{name: numeric_array(columns[name])
                                 for name in SCORE_COLUMNS[1:]}})
            sink = pa.BufferOutputStream()
            pacsv.write_csv(table, sink, write_options=options)
            return sink.getvalue()

        with open(tmp, "wb") as f:
            f.write((",".join(SCORE_COLUMNS) + "\n").encode())
            for chunk in in_order(text, slices(ids.size, WRITE_SLICE,
                                               parts=ids.size // WRITE_SLICE + 1)):
                f.write(chunk)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise

