"""Tasks: what somebody is to do about a customer, by when, and why.

Every app that turns a finding into work — a stale card, a customer entering a value segment,
a lead's MAN combination, an overdue payment — opens a task here, and every person finds
their work in one list (the workbench). A task made by a rule names the rule (`origin`) and
the figures behind it (`reason`), and at most one task per rule and customer is open at a
time, even when two runs race."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehu.core.models import TimeStampedModel

# What the rules that open tasks call them, in the reader's language: origin → (title,
# what to do). A rule registers its texts in its app's ready(); a task of an origin not
# listed here shows the title it was saved with (tasks people write, a segment's treatment).
RULE_TEXTS: dict[str, tuple[Any, Any]] = {}
# Rules whose text an admin may change (a state's playbook): their tasks show the registered
# text in the reader's language only while they were saved with it, else the admin's text.
EDITABLE_RULES: set[str] = set()


def register_rule(origin: str, title, detail="", *, editable: bool = False) -> None:
    RULE_TEXTS[origin] = (title, detail)
    if editable:
        EDITABLE_RULES.add(origin)
    else:
        EDITABLE_RULES.discard(origin)


def _renderings(text) -> set[str]:
    """A translatable text as every language kehu speaks writes it."""
    from django.utils import translation

    out = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            out.add(str(text))
    return out


def rule_text(origin: str, saved: str, which: int = 0) -> str:
    """What a task (or a digest) of `origin` saved as `saved` says, in the reader's language:
    the rule's registered text, unless an admin wrote their own for an editable rule."""
    texts = RULE_TEXTS.get(origin)
    if texts is None and ":" in origin:
        # A rule with one task per record ("opportunity_stale:12") registers "<rule>:*".
        texts = RULE_TEXTS.get(origin.split(":", 1)[0] + ":*")
    if not texts or not texts[which]:
        return saved
    if origin in EDITABLE_RULES and saved and saved not in _renderings(texts[which]):
        return saved
    return str(texts[which])


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")
    DISMISSED = "dismissed", _("Dismissed")


class TaskPriority(models.TextChoices):
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


# Most pressing first, for ordering.
PRIORITY_RANK = {TaskPriority.HIGH: 0, TaskPriority.NORMAL: 1, TaskPriority.LOW: 2}


class TaskKind(models.TextChoices):
    """What doing the task takes: a visit shows on the week's calendar of visits."""

    TODO = "todo", _("To do")
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    EMAIL = "email", _("E-mail")


class Task(TimeStampedModel):
    # A task is about a customer or, before there is one, about a lead (kehu.sales.leads):
    # exactly one of the two; it is seen by whoever may see what it is about.
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, null=True,
                                 blank=True, related_name="tasks", verbose_name=_("customer"))
    lead = models.ForeignKey("sales.Lead", on_delete=models.CASCADE, null=True, blank=True,
                             related_name="tasks", verbose_name=_("lead"))
    title = models.CharField(_("task"), max_length=200)
    detail = models.TextField(_("details"), blank=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="tasks",
                                 verbose_name=_("assigned to"))
    due_on = models.DateField(_("due on"), null=True, blank=True, db_index=True)
    priority = models.CharField(_("priority"), max_length=10, choices=TaskPriority.choices,
                                default=TaskPriority.NORMAL)
    kind = models.CharField(_("kind"), max_length=10, choices=TaskKind.choices,
                            default=TaskKind.TODO)
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices,
                              default=TaskStatus.OPEN, db_index=True)
    # The rule that made the task ("stale_data", "segment:invest" …), empty for tasks people
    # make; with `reason`, what the rule saw (which figure, which value).
    origin = models.CharField(_("origin"), max_length=40, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("closed by"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["status", "due_on", "-id"]
        indexes = [models.Index(fields=["assignee", "status", "due_on"]),
                   models.Index(fields=["customer", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "origin"],
                condition=models.Q(status="open") & ~models.Q(origin=""),
                name="tasks_one_open_task_per_origin"),
            models.UniqueConstraint(
                fields=["lead", "origin"],
                condition=models.Q(status="open") & ~models.Q(origin=""),
                name="tasks_one_open_task_per_lead_origin"),
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False, lead__isnull=True)
                | models.Q(customer__isnull=True, lead__isnull=False),
                name="tasks_about_a_customer_or_a_lead"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN

    @property
    def about(self):
        """What the task is about: its customer, or its lead."""
        return self.customer if self.customer_id else self.lead

    @property
    def about_url(self) -> str:
        """The page of what the task is about: the customer's card, or the lead's page."""
        if self.customer_id:
            return reverse("customers:card", args=[self.customer_id]) + "?tab=tasks"
        return reverse("sales:lead_detail", args=[self.lead_id])

    @property
    def shown_title(self) -> str:
        return rule_text(self.origin, self.title, 0)

    @property
    def shown_detail(self) -> str:
        return rule_text(self.origin, self.detail, 1)


class TaskReminder(models.Model):
    """The e-mail reminding the assignee of a task that fell due (`kehu remind`): one per
    task, ever, so that nobody is reminded twice."""

    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="reminder",
                                verbose_name=_("task"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                             related_name="+", verbose_name=_("sent to"))
    address = models.EmailField(_("address"))
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)

    class Meta:
        verbose_name = _("task reminder")
        verbose_name_plural = _("task reminders")

    def __str__(self) -> str:
        return f"{self.task_id} → {self.address}"


class HeldBack(models.Model):
    """What a run of a rule (the value refresh) held back for one person because it had
    already given them as many tasks as one run may: how many customers, for which rule,
    and the customer list that shows them. Each run replaces its rows."""

    source = models.CharField(_("source"), max_length=40)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="+", verbose_name=_("assigned to"))
    origin = models.CharField(_("origin"), max_length=40)
    title = models.CharField(_("task"), max_length=200)
    count = models.PositiveIntegerField(_("customers held back"))
    list_query = models.CharField(_("customer list filter"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tasks held back")
        verbose_name_plural = _("tasks held back")
        ordering = ["-count", "origin"]
        indexes = [models.Index(fields=["assignee", "source"])]

    def __str__(self) -> str:
        return f"{self.assignee_id} {self.origin}: {self.count}"

    @property
    def shown_title(self) -> str:
        return rule_text(self.origin, self.title, 0)


class Playbook(models.Model):
    """The treatment of a lifecycle state (seed 001 §2.3): the task its owner gets when a
    customer enters the state. One row per state, edited by admins; an empty title means
    the prescribed treatment in the reader's language."""

    state = models.CharField(_("lifecycle state"), max_length=20, unique=True)
    create_task = models.BooleanField(_("create a task for the owner"), default=True)
    title = models.CharField(_("task"), max_length=200, blank=True,
                             help_text=_("Empty: the prescribed treatment, in each reader's "
                                         "language."))
    detail = models.TextField(_("what to do"), blank=True,
                              help_text=_("Empty: the prescribed steps, in each reader's "
                                          "language."))
    kind = models.CharField(_("kind"), max_length=10, choices=TaskKind.choices,
                            default=TaskKind.CALL)
    priority = models.CharField(_("priority"), max_length=10, choices=TaskPriority.choices,
                                default=TaskPriority.NORMAL)
    due_in_days = models.PositiveSmallIntegerField(_("due in (days)"), default=7)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("state playbook")
        verbose_name_plural = _("state playbooks")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.state

    @property
    def origin(self) -> str:
        return f"playbook:{self.state}"

    @property
    def task_title(self) -> str:
        return self.title or str(PLAYBOOK_TEXTS.get(self.state, ("", ""))[0])

    @property
    def task_detail(self) -> str:
        return self.detail or str(PLAYBOOK_TEXTS.get(self.state, ("", ""))[1])


# The prescribed treatment of each lifecycle state (seed 001 §2.3; DOMAIN.md §2): title and
# steps, and the defaults of its playbook (kind, priority, due in days, on).
PLAYBOOK_TEXTS = {
    "potential": (_("Potential customer: qualify with the MAN rule"),
                  _("Find out money, authority and need; make the promising ones targets.")),
    "target": (_("Target customer: make the first offer"),
               _("Contact the decision maker and propose a first order.")),
    "first": (_("First purchase: call within 7 days and offer a second purchase"),
              _("Ask how the first order went, solve any problem, and make an offer for a "
                "second purchase.")),
    "repeat": (_("Repeat purchase: cross-sell"),
               _("Propose products the customer does not buy from us yet.")),
    "loyal": (_("Loyal customer: VIP care and a referral request"),
              _("Visit, thank them, offer VIP service, and ask whom they could refer to us.")),
    "churned": (_("Lost customer: ask why and make a win-back offer"),
                _("Call to learn why they stopped buying, record the reason, and make a "
                  "win-back offer if they are worth it.")),
    "non_customer": (_("Non-customer: stop contact"),
                     _("Stop visits, calls and campaigns; close their open opportunities.")),
}
PLAYBOOK_DEFAULTS = {  # state: (create a task, kind, priority, due in days)
    "potential": (False, TaskKind.CALL, TaskPriority.LOW, 30),
    "target": (False, TaskKind.CALL, TaskPriority.NORMAL, 14),
    "first": (True, TaskKind.CALL, TaskPriority.HIGH, 7),
    "repeat": (True, TaskKind.CALL, TaskPriority.NORMAL, 14),
    "loyal": (True, TaskKind.VISIT, TaskPriority.NORMAL, 14),
    "churned": (True, TaskKind.CALL, TaskPriority.HIGH, 7),
    "non_customer": (True, TaskKind.TODO, TaskPriority.LOW, 7),
}


def ensure_default_playbooks(playbook_model=None, using: str = "default") -> None:
    """Every lifecycle state has its playbook: the prescribed treatment for each state that
    has none (after migrate, and after a database was emptied by a flush, which tests do;
    a playbook an admin edited is left as it is)."""
    playbook_model = playbook_model or Playbook
    for state, (on, kind, priority, days) in PLAYBOOK_DEFAULTS.items():
        playbook_model.objects.using(using).get_or_create(
            state=state, defaults={"create_task": on, "kind": kind, "priority": priority,
                                   "due_in_days": days})
