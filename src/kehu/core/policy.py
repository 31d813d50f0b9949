"""What each role may do beyond seeing and changing its customers: one answer per rule.

kehu.core.permissions says WHICH customers a user may view, change, export …; this module
says whether the user may take a firm-wide step at all: create customers, make someone
responsible for one, import, export, refresh the value scores, open the dashboards, change
settings, run data-quality jobs, merge, read the audit log, see a background job, lend a
customer file or read the register of loans. Services
enforce these, views and the API ask them to show or hide what the user cannot do, and the
permission tests derive their expectations from them, so the three cannot disagree.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from kehu.core.permissions import CHANGE, CONTRIBUTE, DELETE, EXPORT, VIEW, can, has_action
from kehu.core.roles import Role

# Which roles may import which kind of file (kehu.dataio ImportKind values). Products are
# the firm's catalogue, so only managers; activities are what service staff record too.
IMPORT_ROLES: dict[str, frozenset[str]] = {
    "customers": frozenset({Role.MANAGER, Role.SALES}),
    "contacts": frozenset({Role.MANAGER, Role.SALES}),
    "transactions": frozenset({Role.MANAGER, Role.SALES}),
    "products": frozenset({Role.MANAGER}),
    "activities": frozenset({Role.MANAGER, Role.SALES, Role.SERVICE}),
    # The sensitive tier: roles that see it (others with an individual grant of the tier
    # may import them too, see may_import).
    "receivables": frozenset({Role.MANAGER}),
    "payments": frozenset({Role.MANAGER}),
    "leads": frozenset({Role.MANAGER, Role.SALES}),
}
# Kinds of file that hold the sensitive tier (credit): also open to anyone granted it.
SENSITIVE_IMPORTS = frozenset({"receivables", "payments"})
# Who reads the value dashboard (customer equity, segments, the whale curve …): each adds up
# the customers of their own scope, a salesperson their own book, a manager the team's.
DASHBOARD_ROLES = frozenset({Role.MANAGER, Role.ANALYST, Role.MARKETING, Role.SALES})
# Who reads how the value models were fitted and chosen, and the value settings: sums over
# the whole firm.
MODEL_ROLES = frozenset({Role.MANAGER, Role.ANALYST, Role.MARKETING})


def _signed_in(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_admin(user) -> bool:
    return _signed_in(user) and user.is_kehu_admin


def _manager_of_a_team(user) -> bool:
    # A manager without a team manages nobody: their scope is their own customers.
    return _signed_in(user) and user.role == Role.MANAGER and user.team_id is not None


# Customers and their owners ----------------------------------------------------------------

def may_create_customers(user) -> bool:
    """Those who may change customers may create them (admins, managers, sales)."""
    return has_action(user, CHANGE)


def may_assign_owner(user, owner) -> bool:
    """Whether `user` may make `owner` responsible for a customer (专人负责): anyone may
    take a customer themselves, a manager may give one to a member of their team, an admin
    to anybody. The owner must be an active user."""
    if not _signed_in(user) or owner is None or not owner.is_active:
        return False
    if is_admin(user) or owner.pk == user.pk:
        return True
    return _manager_of_a_team(user) and owner.team_id == user.team_id


def may_create_leads(user) -> bool:
    """Leads (kehu.sales.leads) are made by those who may create customers; a lead belongs
    to its owner's scope like a customer."""
    return may_create_customers(user)


def may_see_lead_funnel(user) -> bool:
    """The lead funnel counts the leads in the user's scope; whoever may read leads at all
    may read it (a salesperson, their own; a manager, the team's; an admin, all)."""
    return has_action(user, VIEW)


def may_reassign_customers(user) -> bool:
    """Whether the user may hand customers to someone other than themselves at all (shows
    the owner field and the reassignment form)."""
    return is_admin(user) or _manager_of_a_team(user)


def assignable_owners(user) -> QuerySet:
    """The users `user` may make responsible for a customer, as a queryset (the same rule as
    may_assign_owner, for forms and import files)."""
    qs = get_user_model().objects.filter(is_active=True).select_related("team")
    if is_admin(user):
        return qs
    if _manager_of_a_team(user):
        return qs.filter(team_id=user.team_id)
    return qs.filter(pk=getattr(user, "pk", None))


def may_assign_task(user, assignee) -> bool:
    """Whom `user` may give a task: the same people they may make responsible for a
    customer (themselves; a manager, their team; an admin, anybody)."""
    return may_assign_owner(user, assignee)


def may_give_list_tasks(user) -> bool:
    """Whether the value dashboard's lists offer to give each listed customer's owner a
    task: managers (for their team) and admins, who may give tasks to others."""
    return may_see_value_dashboard(user) and may_reassign_customers(user)


def may_see_tasks_of(user, assignee) -> bool:
    """Whose task list `user` may read: their own; a manager, their team's; an admin, all."""
    return may_assign_owner(user, assignee)


def may_manage_team_tasks(user) -> bool:
    """Whether the user sees the team's overdue tasks on their workbench and hands them to
    others in bulk: a manager of a team (their team), an admin (everybody)."""
    return is_admin(user) or _manager_of_a_team(user)


def may_designate_key_accounts(user) -> bool:
    """Whether the user may make any customer of their scope a key account and start its
    plan, beyond those the value scores mark as key: a manager of a team, an admin."""
    return is_admin(user) or _manager_of_a_team(user)


def may_merge(user) -> bool:
    """Merging two customers deletes one: those who may delete customers."""
    return has_action(user, DELETE)


# Tickets (kehu.service.tickets) --------------------------------------------------------------

def may_work_tickets(user) -> bool:
    """Who opens and works tickets at all: those who may add to a customer's timeline
    (service staff and managers for their team, sales for their customers, admins); each
    ticket further needs that right on its customer."""
    return has_action(user, CONTRIBUTE)


def may_assign_ticket(user, assignee) -> bool:
    """Whom `user` may make responsible for a ticket: themselves; a manager, a member of
    their team; an admin, anybody (the same rule as for a customer's owner)."""
    return may_assign_owner(user, assignee)


def may_change_ticket_settings(user) -> bool:
    """The ticket categories are the firm's list: admins."""
    return is_admin(user)


# Data in and out ---------------------------------------------------------------------------

def may_import(user, kind: str) -> bool:
    if not _signed_in(user) or kind not in IMPORT_ROLES:
        return False
    if kind in SENSITIVE_IMPORTS:
        return may_record_credit(user)
    return is_admin(user) or user.role in IMPORT_ROLES[kind]


def importable_kinds(user) -> list[str]:
    return [kind for kind in IMPORT_ROLES if may_import(user, kind)]


def may_undo_import(user, created_by_id: int | None) -> bool:
    """An import batch is undone by whoever ran it, or an admin."""
    return is_admin(user) or (_signed_in(user) and created_by_id == user.pk)


def may_export(user) -> bool:
    return has_action(user, EXPORT)


def may_run_quality_jobs(user) -> bool:
    """Duplicate scans and refresh tasks cover many customers: managers and admins."""
    return is_admin(user) or _manager_of_a_team(user)


# Customer value ----------------------------------------------------------------------------

def may_see_value_dashboard(user) -> bool:
    return is_admin(user) or (_signed_in(user) and user.role in DASHBOARD_ROLES)


def may_see_value_models(user) -> bool:
    """The fitted models, their holdout comparison and the value settings."""
    return is_admin(user) or (_signed_in(user) and user.role in MODEL_ROLES)


def may_see_customer_values(user) -> bool:
    """Each customer's own value figures (the card's value strip and tab, the list's value
    columns and sorts, /api/v1/value/customers): every signed-in user, for the customers
    their scope reaches. The dashboards that add the figures up are may_see_value_dashboard."""
    return _signed_in(user)


def may_refresh_value(user) -> bool:
    """Analysts run the value refresh from the UI; admins too."""
    return is_admin(user) or (_signed_in(user) and user.role == Role.ANALYST)


def may_change_settings(user) -> bool:
    """The firm's settings (value models, activity costs, segment treatments)."""
    return is_admin(user)



# Service levels (kehu.service.sla) ------------------------------------------------------------

def may_change_service_levels(user) -> bool:
    """The firm's service hours, holidays and service-level targets are settings."""
    return may_change_settings(user)


def may_decide_service_group(user, customer) -> bool:
    """Who puts a customer in a service group against the rule: an admin, or a manager of a
    team who may change the customer."""
    if customer is None or not _signed_in(user):
        return False
    if is_admin(user):
        return True
    return _manager_of_a_team(user) and can(user, CHANGE, customer)

# Loans of customer files (利用和借阅) ----------------------------------------------------------

def may_decide_loan(user, customer) -> bool:
    """Who lends a customer file: the customer's owner (专人负责), a manager of the owner's
    team, or an admin."""
    if customer is None or not _signed_in(user):
        return False
    if is_admin(user) or customer.owner_id == user.pk:
        return True
    return _manager_of_a_team(user) and customer.team_id == user.team_id


def lender_filter(user, prefix: str = "customer__") -> Q | None:
    """The same rule as may_decide_loan as a condition on customers (through `prefix`):
    the customers whose loans `user` decides on; None means all of them."""
    if not _signed_in(user):
        return Q(pk__in=[])
    if is_admin(user):
        return None
    own = Q(**{f"{prefix}owner_id": user.pk})
    if _manager_of_a_team(user):
        return own | Q(**{f"{prefix}team_id": user.team_id})
    return own


def may_read_loan_register(user) -> bool:
    """The register of loans is a report for managers (their team's customers) and admins."""
    return is_admin(user) or _manager_of_a_team(user)


# Oversight ---------------------------------------------------------------------------------

def may_read_audit_log(user) -> bool:
    return is_admin(user)


def may_unlock_sign_in(user) -> bool:
    """Seeing the sign-in locks in place and lifting one: admins (and, on the command line,
    whoever runs `kehu unlock`)."""
    return is_admin(user)


def may_see_job(user, started_by_id: int | None) -> bool:
    """A background job's progress and result: the user who started it, or an admin."""
    return is_admin(user) or (_signed_in(user) and started_by_id == user.pk)


# Credit control (信用管理, the sensitive tier) -------------------------------------------------

def may_see_credit(user) -> bool:
    """Credit limits, receivables, payments, overdue amounts, punctuality, incidents and
    credit-limit flags are the sensitive tier: those who see it (admins, managers, and
    anyone granted the tier), for the customers their scope reaches."""
    return _signed_in(user) and user.sees_sensitive


def may_record_credit(user) -> bool:
    """Recording receivables, payments and incidents: those who see the tier and may change
    customers (each write also needs CHANGE on the customer)."""
    return may_see_credit(user) and has_action(user, CHANGE)


def may_see_receivables_list(user) -> bool:
    """The receivables list (Sales → Receivables) adds up many customers' credit: managers,
    admins, and others granted the sensitive tier (finance), each over their own scope."""
    return may_see_credit(user)
# Sales ---------------------------------------------------------------------------------------

FORECAST_ROLES = frozenset({Role.MANAGER, Role.SALES})


def may_edit_competitors(user) -> bool:
    """The firm's list of competitors: managers and admins keep it."""
    return is_admin(user) or (_signed_in(user) and user.role == Role.MANAGER)


def may_see_forecast(user) -> bool:
    """The sales forecast adds up the opportunities and the installed base of the user's own
    scope: a salesperson their own, a manager the team's, an admin the firm's."""
    return is_admin(user) or (_signed_in(user) and user.role in FORECAST_ROLES)


# Service ---------------------------------------------------------------------------------------

SERVICE_DASHBOARD_ROLES = frozenset({Role.MANAGER, Role.ANALYST})


def may_see_service_dashboard(user) -> bool:
    """The service dashboard and the service–profit chain (owner continuity against
    satisfaction, retention and value; the key customers whose owner changed twice in a
    year) add up the customers of the user's own scope: managers, analysts and admins."""
    return is_admin(user) or (_signed_in(user) and user.role in SERVICE_DASHBOARD_ROLES)


# Marketing: consent and sends ------------------------------------------------------------------

CONSENT_ROLES = frozenset({Role.MANAGER, Role.SALES, Role.SERVICE, Role.MARKETING})
SEND_ROLES = frozenset({Role.MANAGER, Role.MARKETING})


def may_record_consent(user) -> bool:
    """Recording that a person gave or refused consent (or objected to automated marketing
    or personalisation): whoever talks to customers, for the customers their scope shows
    them. An objection must be easy to record wherever it is made."""
    return is_admin(user) or (_signed_in(user) and user.role in CONSENT_ROLES)


def may_send_marketing(user) -> bool:
    """Sending marketing e-mails to customers: marketing staff, managers and admins, to the
    customers their scope shows them (consent is checked for each at the moment of
    sending)."""
    return is_admin(user) or (_signed_in(user) and user.role in SEND_ROLES)


def may_manage_referrals(user) -> bool:
    """Giving customers referral codes: whoever talks to customers about bringing others."""
    return is_admin(user) or (_signed_in(user) and user.role in CONSENT_ROLES)


def may_grant_referral_rewards(user) -> bool:
    """Rewarding a referrer costs the firm: marketing staff, managers and admins."""
    return is_admin(user) or (_signed_in(user) and user.role in SEND_ROLES)


def may_see_referral_share(user) -> bool:
    """The share of new customers who came by referral (Marketing › Referrals), over the
    user's own scope."""
    return is_admin(user) or (_signed_in(user) and user.role in DASHBOARD_ROLES)
# Satisfaction surveys (kehu.service.surveys) ---------------------------------------------------

SURVEY_RESULT_ROLES = frozenset({Role.MANAGER, Role.ANALYST, Role.MARKETING, Role.SERVICE})


def may_manage_surveys(user) -> bool:
    """Which surveys exist, their questions and when they are sent: managers and admins."""
    return is_admin(user) or (_signed_in(user) and user.role == Role.MANAGER)


def may_see_survey_results(user) -> bool:
    """The survey results added up by segment, owner and month, each over the user's own
    scope of customers: managers, analysts, marketing and service staff, and admins. Every
    user sees a customer's own answers on the card."""
    return is_admin(user) or (_signed_in(user) and user.role in SURVEY_RESULT_ROLES)


# Marketing -----------------------------------------------------------------------------------

CAMPAIGN_ROLES = frozenset({Role.MANAGER, Role.MARKETING})


def may_run_campaigns(user) -> bool:
    """Campaigns and target lists are made and launched by marketing users and managers
    (each over the customers of their own scope) and admins."""
    return is_admin(user) or (_signed_in(user) and user.role in CAMPAIGN_ROLES)


def may_change_campaign(user, owner_id: int | None, team_id: int | None) -> bool:
    """Who changes, launches or finishes a campaign or a target list owned by `owner_id`
    in `team_id`: its owner (while they may run campaigns), a manager of that team, an
    admin."""
    if is_admin(user):
        return True
    if not may_run_campaigns(user):
        return False
    if owner_id == user.pk:
        return True
    return _manager_of_a_team(user) and team_id == user.team_id


def campaign_change_filter(user) -> Q | None:
    """may_change_campaign as a condition on campaigns and target lists (None: all)."""
    if is_admin(user):
        return None
    if not may_run_campaigns(user):
        return Q(pk__in=[])
    own = Q(owner_id=user.pk)
    if _manager_of_a_team(user):
        return own | Q(team_id=user.team_id)
    return own
# The knowledge base of solutions (知识库) -------------------------------------------------------

# Who writes and edits articles: those who solve customers' problems, and their managers.
ARTICLE_WRITERS = frozenset({Role.MANAGER, Role.SERVICE})


def may_read_articles(user) -> bool:
    """Articles are the firm's shared know-how and name no customer: every signed-in user
    reads them. The tickets an article solved stay in their customers' scope."""
    return _signed_in(user)


def may_write_articles(user) -> bool:
    """Writing and editing articles, and turning a solved ticket into one: service staff,
    managers and admins."""
    return is_admin(user) or (_signed_in(user) and user.role in ARTICLE_WRITERS)


# One-to-one offers (kehu.marketing.offers) ---------------------------------------------------

def may_manage_offers(user) -> bool:
    """Building personalised offer lists, issuing coupons and sending, printing or exporting
    a list: the people who run campaigns (may_run_campaigns), over the customers their scope
    reaches; one-to-one offers are marketing's work as campaigns are. Everyone who sees a
    customer sees its offers on the card."""
    return may_run_campaigns(user)


def may_redeem_coupons(user) -> bool:
    """Recording that a coupon was used on an order: those who manage offers, and those who
    record the customer's transactions (each redemption also needs that customer in scope)."""
    return may_manage_offers(user) or has_action(user, CHANGE)
