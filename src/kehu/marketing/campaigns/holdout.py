"""The hold-out group (对照组): which members of a campaign's list receive nothing.

A customer is held out when a hash of the campaign's seed and the customer's id, read as a
number between 0 and 1, falls below the hold-out share. The assignment needs no stored
random numbers, is the same every time it is worked out (a relaunch, a results page, an
audit years later), and is independent of the list's order and size: adding members to a
list never moves the others between the groups.
"""

from __future__ import annotations

import hashlib
import secrets

_SCALE = float(2**64)


def new_seed() -> int:
    """A seed for a new campaign (a positive 63-bit integer, as the database stores it)."""
    return secrets.randbits(62) + 1


def draw(seed: int, customer_id: int) -> float:
    """The customer's number in [0, 1) for this seed: uniform over customers, fixed."""
    digest = hashlib.sha256(f"kehu-holdout:{int(seed)}:{int(customer_id)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE


def is_held_out(seed: int, customer_id: int, percent: float) -> bool:
    """Whether the customer is in the hold-out group of a campaign holding out `percent`
    (0-100) of its list."""
    if not 0 <= percent <= 100:
        raise ValueError(f"hold-out share {percent!r} is not a percentage")
    return draw(seed, customer_id) < percent / 100.0
