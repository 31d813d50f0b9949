"""The MAN rule (seed 003; DOMAIN.md §3): money (购买力), authority (决策权) and need (需求),
each judged yes or no, name one of eight combinations, and each combination prescribes what
to do. Upper case means "has it": M+a+N has money and need but no authority. Pure: no
database."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# A judgement not made yet.
UNKNOWN = None

PURSUE = "pursue"
CREATE_NEED = "create_need"
FIND_AUTHORITY = "find_authority"
CHECK_CREDIT = "check_credit"
NURTURE = "nurture"
STOP = "stop"
# Not every judgement is made yet: find out the rest first.
JUDGE = "judge"


@dataclass(frozen=True)
class Action:
    code: str
    label: object  # lazy text
    detail: object
    kind: str  # the task's kind (kehu.tasks.models.TaskKind)
    priority: str  # the task's priority
    due_in_days: int | None  # the task's due date; None: no task


ACTIONS: dict[str, Action] = {a.code: a for a in (
    Action(PURSUE, _("Ideal prospect: pursue now"),
           _("Money, authority and need are all there: visit the decision maker and make "
             "an offer."), "visit", "high", 3),
    Action(CREATE_NEED, _("Contact: selling may create the need"),
           _("They can pay and decide but see no need yet: show what our offer solves for "
             "them."), "call", "normal", 7),
    Action(FIND_AUTHORITY, _("Contact and find the person with authority"),
           _("They can pay and need it, but this person does not decide: find out who "
             "does and reach them."), "call", "normal", 7),
    Action(CHECK_CREDIT, _("Contact: check credit or offer financing"),
           _("They need it and decide, but money is short: look into their business and "
             "credit, and offer terms or financing."), "call", "normal", 7),
    Action(NURTURE, _("Long-term nurture"),
           _("Keep in touch and watch them grow until they have a second of the three."),
           "todo", "low", 90),
    Action(STOP, _("Not a customer: stop contact"),
           _("No money, no authority, no need: stop visits and calls."), "todo", "low",
           None),
    Action(JUDGE, _("Judge money, authority and need"),
           _("Find out whether they can pay, who decides and whether they need it."),
           "call", "normal", 7),
)}

# The eight combinations and their actions, in the order of seed 003.
RULE: dict[tuple[bool, bool, bool], str] = {
    (True, True, True): PURSUE,
    (True, True, False): CREATE_NEED,
    (True, False, True): FIND_AUTHORITY,
    (False, True, True): CHECK_CREDIT,
    (False, False, True): NURTURE,
    (False, True, False): NURTURE,
    (True, False, False): NURTURE,
    (False, False, False): STOP,
}

# The order queues are shown in: the most promising first.
QUEUE_ORDER = (PURSUE, CREATE_NEED, FIND_AUTHORITY, CHECK_CREDIT, JUDGE, NURTURE, STOP)


def _letter(letter: str, value: bool | None) -> str:
    if value is None:
        return "?"
    return letter.upper() if value else letter.lower()


def man_code(money: bool | None, authority: bool | None, need: bool | None) -> str:
    """"M+a+N" for money yes, authority no, need yes; "?" for a judgement not made yet."""
    return "+".join((_letter("m", money), _letter("a", authority), _letter("n", need)))


def action_code(money: bool | None, authority: bool | None, need: bool | None) -> str:
    """The stable code of the prescribed action; JUDGE while a judgement is missing."""
    if money is None or authority is None or need is None:
        return JUDGE
    return RULE[(bool(money), bool(authority), bool(need))]


def parse_man(code: str) -> tuple[bool, bool, bool]:
    """The judgements a full combination like "M+a+N" names; ValueError otherwise."""
    parts = (code or "").strip().split("+")
    if len(parts) != 3 or [p.lower() for p in parts] != ["m", "a", "n"]:
        raise ValueError(code)
    return tuple(p.isupper() for p in parts)  # type: ignore[return-value]
