"""What the navigation says about loans: requests waiting for the user's decision and
answers to the user's own requests they have not seen. Counted only when a page shows them."""

from __future__ import annotations

from functools import cached_property


class LoanMenu:
    def __init__(self, user):
        self.user = user

    @cached_property
    def to_decide(self) -> int:
        from kehu.loans.selectors import to_decide

        return to_decide(self.user).count()

    @cached_property
    def answers(self) -> int:
        from kehu.loans.selectors import unseen_answers

        return unseen_answers(self.user).count()

    @property
    def total(self) -> int:
        return self.to_decide + self.answers


def loan_menu(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_loans": LoanMenu(user)}
