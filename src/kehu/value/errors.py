"""The one exception the value engine raises for answers it cannot give."""

from __future__ import annotations


class ValueModelError(Exception):
    """A value model cannot give a trustworthy answer.

    Raised for inputs the models cannot use (arrays of different lengths, recency > T,
    negative counts), for data that cannot identify a model (nobody repeats, too few
    customers, a parameter running off to 0 or infinity), for an optimiser that does not
    converge, and for quantities that are undefined under the fitted parameters (expected
    spend when Gamma-Gamma's q <= 1). The message says which of these happened and why.
    """
