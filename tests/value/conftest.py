"""CDNOW: the data the published BG/NBD, Pareto/NBD and Gamma-Gamma fits were made on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kehu.value import rfm_summary

DATA = Path(__file__).parent / "data"
CDNOW = DATA / "CDNOW_sample.txt"
AS_OF = "1997-09-30"  # end of week 39: the calibration period of the published fits
HOLDOUT_END = "1998-06-30"  # end of week 78


def read_cdnow() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    raw = np.loadtxt(CDNOW, dtype=str)
    ymd = raw[:, 2]
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in ymd], dtype="datetime64[D]")
    return raw[:, 0], dates, raw[:, 4].astype(float)


@pytest.fixture(scope="session")
def cdnow_transactions():
    return read_cdnow()


@pytest.fixture(scope="session")
def cdnow(cdnow_transactions):
    """RFM summary to 1997-09-30 in weeks."""
    return rfm_summary(*cdnow_transactions, as_of=AS_OF)


@pytest.fixture(scope="session")
def cdnow_holdout(cdnow_transactions):
    """Calibration to 1997-09-30, holdout to 1998-06-30."""
    return rfm_summary(*cdnow_transactions, as_of=HOLDOUT_END, calibration_end=AS_OF)


@pytest.fixture(scope="session")
def bgnbd(cdnow):
    from kehu.value import BetaGeoModel

    return BetaGeoModel().fit(cdnow.frequency, cdnow.recency, cdnow.T)


@pytest.fixture(scope="session")
def paretonbd(cdnow):
    from kehu.value import ParetoNBDModel

    return ParetoNBDModel().fit(cdnow.frequency, cdnow.recency, cdnow.T)


@pytest.fixture(scope="session")
def gamma_gamma(cdnow):
    from kehu.value import GammaGammaModel

    return GammaGammaModel().fit(cdnow.frequency, cdnow.monetary_value)
