"""What the audit log's codes mean, in the reader's language. The codes themselves stay in
the log (they are what the filter matches); an unknown code is shown as it is."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "customer.view": _("Viewed a customer card"),
    "customer.list": _("Listed customers"),
    "customer.create": _("Created a customer"),
    "customer.update": _("Changed a customer"),
    "customer.delete": _("Deleted a customer"),
    "customer.confirm": _("Confirmed a customer's data"),
    "customer.lifecycle": _("Set a lifecycle state"),
    "customer.state_lock": _("Locked a lifecycle state"),
    "customer.state_unlock": _("Unlocked a lifecycle state"),
    "customer.owner": _("Changed a customer's owner"),
    "customer.merge": _("Merged customers (kept this one)"),
    "customer.merged_into": _("Merged customers (this one went)"),
    "contact.create": _("Added a contact"),
    "contact.update": _("Changed a contact"),
    "contact.delete": _("Deleted a contact"),
    "contact.merge": _("Merged contacts"),
    "transaction.create": _("Added a transaction"),
    "transaction.delete": _("Deleted a transaction"),
    "receivable.create": _("Recorded a receivable"),
    "receivable.update": _("Corrected a receivable"),
    "receivable.payment": _("Recorded a payment"),
    "credit_incident.create": _("Recorded a credit incident"),
    "credit.flag": _("Flagged an amount over a customer's credit limit"),
    "activity.create": _("Added an activity"),
    "activity.delete": _("Deleted an activity"),
    "activity.done": _("Marked a task done"),
    "task.create": _("Added a task"),
    "task.done": _("Completed a task"),
    "task.dismiss": _("Dismissed a task"),
    "task.assign": _("Reassigned a task"),
    "task.remind": _("E-mailed a task reminder"),
    "task.create_from_list": _("Gave the owners of a list's customers a task each"),
    "lead.view": _("Viewed a lead"),
    "lead.list": _("Listed leads"),
    "lead.create": _("Created a lead"),
    "lead.update": _("Changed a lead"),
    "lead.judge": _("Judged a lead by the MAN rule"),
    "lead.convert": _("Converted a lead into a customer"),
    "lead.funnel": _("Opened the lead funnel"),
    "opportunity.create": _("Added an opportunity"),
    "opportunity.update": _("Changed an opportunity"),
    "opportunity.delete": _("Deleted an opportunity"),
    "pipeline.stage": _("Changed a pipeline stage"),
    "pipeline.stage_delete": _("Removed a pipeline stage"),
    "pipeline.settings": _("Changed the pipeline settings"),
    "competitor.save": _("Changed the list of competitors"),
    "competitor.delete": _("Removed a competitor"),
    "referral.create": _("Recorded a referral"),
    "referral.delete": _("Removed a referral"),
    "loyalty.statement": _("Recorded a customer's intention to buy again or recommend"),
    "export.customers": _("Exported customers"),
    "export.transactions": _("Exported transactions"),
    "export.loans": _("Exported the register of loans"),
    "import": _("Imported a file"),
    "import.refused": _("Import refused"),
    "import.mapping": _("Saved a column mapping"),
    "import.undo": _("Undid an import"),
    "duplicates.scan": _("Scanned for duplicates"),
    "duplicates.dismiss_customer": _("Dismissed a duplicate pair of customers"),
    "duplicates.dismiss_contact": _("Dismissed a duplicate pair of contacts"),
    "quality.refresh_tasks": _("Created data refresh tasks"),
    "privacy.export": _("Data-subject export of a customer"),
    "privacy.export_contact": _("Data-subject export of a contact"),
    "privacy.erase": _("Erased a customer's personal data"),
    "privacy.erase_contact": _("Erased a contact's personal data"),
    "token.create": _("Created an API token"),
    "token.revoke": _("Revoked an API token"),
    "token.revoke_password": _("API token ended: its user's password changed"),
    "token.revoke_inactive": _("API token ended: its user was deactivated"),
    "user.team": _("Changed a user's team"),
    "user.password": _("Changed a password"),
    "signin": _("Signed in"),
    "signout": _("Signed out"),
    "signin.failed": _("Failed sign-in"),
    "signin.refused": _("Sign-in refused: locked"),
    "signin.lock_address": _("Locked sign-in from an address"),
    "signin.lock_name": _("Locked sign-in for a user name"),
    "signin.unlock_address": _("Unlocked sign-in from an address"),
    "signin.unlock_name": _("Unlocked sign-in for a user name"),
    "value.refresh": _("Refreshed the value scores"),
    "value.dashboard": _("Opened the value dashboard"),
    "value.export": _("Downloaded a value table"),
    "value.settings": _("Changed the value settings"),
    "firm.currency": _("Changed the currency"),
    "value.activity_cost": _("Changed an activity cost"),
    "value.segment_action": _("Changed a segment's treatment"),
    "demo.load": _("Loaded the demo data"),
    "loan.request": _("Asked to borrow a customer file"),
    "loan.approve": _("Lent a customer file"),
    "loan.refuse": _("Refused to lend a customer file"),
    "loan.withdraw": _("Withdrew a request to borrow a customer file"),
    "loan.return": _("Ended a loan of a customer file early"),
    "loan.expire": _("A loan of a customer file ended (noticed)"),
    "loan.lapse": _("A request to borrow a customer file lapsed unanswered"),
    "plan.create": _("Started an account plan"),
    "plan.update": _("Changed an account plan"),
    "plan.competitor_add": _("Added a competitor to an account plan"),
    "plan.competitor_update": _("Changed a competitor sheet of an account plan"),
    "plan.competitor_remove": _("Removed a competitor from an account plan"),
    "plan.step_add": _("Added a step to an account plan"),
    "plan.step_update": _("Changed a step of an account plan"),
    "plan.step_delete": _("Deleted a step of an account plan"),
    "service.chain_settings": _("Changed the service settings"),
    "service.continuity_tasks": _("Gave the owners of key customers with changing owners a task"),
    "consent.set": _("Recorded consent"),
    "consent.unsubscribe": _("Opted out through an e-mail's unsubscribe link"),
    "consent.list": _("Listed consents"),
    "consent.view": _("Viewed a consent"),
    "marketing.send": _("Sent a marketing e-mail"),
    "marketing.send_batch": _("Sent marketing e-mails"),
    "referral.code": _("Gave a customer a referral code"),
    "referral.reward": _("Rewarded a referral"),
    "survey.create": _("Created a survey"),
    "survey.update": _("Changed a survey"),
    "survey.send": _("Sent a satisfaction survey"),
    "survey.answer": _("A customer answered a satisfaction survey"),
}

DETAIL_KEYS = {
    "activities": _("activities"), "activity": _("activity"), "address": _("address"),
    "amount": _("amount"),
    "as_of": _("as of"),
    "batch": _("batch"), "borrower": _("borrower"), "changes": _("changes"),
    "columns": _("columns"),
    "contact": _("contact"), "contacts": _("contacts"), "cost_to_serve": _("cost to serve"),
    "count": _("number of customers"), "counts": _("counts"),
    "create_task": _("create a task"), "created": _("created"),
    "customer": _("customer"), "customers": _("customers"),
    "customers_moved": _("customers moved"), "date": _("date"), "days": _("days"),
    "bulk": _("several at once"), "due": _("due"), "due_in_days": _("due in days"),
    "errors": _("errors"), "failures": _("failures"),
    "fields": _("fields"),
    "fields_from_merged": _("fields from the merged record"), "file": _("file"),
    "filter": _("filter"), "first": _("first customer id"),
    "format": _("format"), "from": _("from"), "gross_profit": _("gross profit"),
    "buy_again": _("intends to buy again (0–10)"),
    "recommend": _("would recommend us (0–10)"),
    "wallet_share": _("share of wallet (%)"),
    "locked_by": _("locked by"), "state": _("state"), "stated_on": _("stated on"),
    "kind": _("kind"), "known": _("an existing user"), "label": _("label"),
    "last": _("last customer id"), "lead": _("lead"), "leads": _("leads"),
    "man": _("MAN combination"), "action": _("prescribed action"), "list": _("list"),
    "loan": _("under loan"),
    "matched": _("matched a customer"), "merged": _("merged"),
    "merged_customer": _("merged customer"), "moved": _("moved"), "name": _("name"),
    "net_contribution": _("net contribution"), "opportunity": _("opportunity"),
    "part": _("part"), "reason": _("reason"),
    "records": _("records"), "redacted": _("details removed by an erasure"),
    "reference": _("reference"), "referrer": _("referred by"),
    "refresh": _("refresh"), "removed": _("removed"), "restored": _("restored"),
    "revenue": _("revenue"), "rows": _("rows"), "score": _("score"),
    "sha256": _("SHA-256 of the customer ids"),
    "seconds": _("seconds"), "segment": _("segment"),
    "skipped": _("customers gone before the write"), "stale": _("stale"),
    "status": _("status"),
    "subject": _("subject"), "survivor": _("kept record"), "table": _("table"),
    "task": _("task"), "tasks_closed": _("tasks closed"), "to": _("to"),
    "transaction": _("transaction"),
    "transactions": _("transactions"),
    "until": _("until"), "updated": _("updated"), "user": _("user"),
    "username": _("user name"), "warnings": _("warnings"),
    "plan": _("account plan"), "step": _("plan step"), "competitor": _("competitor"),
    "assignee": _("assigned to"), "key": _("why a key account"),
    "channel": _("channel"), "source": _("source"), "origin": _("sent for"),
    "job": _("job"), "record": _("record"), "code": _("referral code"),
    "referred": _("new customer"), "consent": _("consent"),
}

# What a customer.list entry listed.
LISTS = {
    "customers": _("the customer list"),
    "transactions": _("transactions"),
    "referrers": _("customers suggested as referrer"),
    "loans": _("loans of customer files"),
    "value.customers": _("customers' value scores"),
    "value.intention_grid": _("intention × behaviour grid"),
    "tasks": _("tasks"),
    "leads": _("leads"),
    "opportunities": _("opportunities"),
    "workbench": _("the workbench"),
    "duplicates.customers": _("likely duplicate customers"),
    "duplicates.contacts": _("likely duplicate contacts"),
    "privacy_search": _("personal data search"),
    "account_plans": _("account plans"),
    "receivables": _("receivables"),
    "service.continuity_flags": _("key customers with changing owners"),
    "consents": _("consents"),
    "marketing_sends": _("marketing e-mails"),
    "referrals": _("referrals and the share of new customers they brought"),
    "survey_low_scores": _("low survey scores"),
    "survey_responses": _("survey responses"),
}

# Which part of a customer's file a read opened; the card's tabs add theirs (card.add_tab).
PARTS = {
    "owner": _("owner"), "lifecycle": _("lifecycle state"), "task": _("task"),
    "merge": _("merging duplicates"), "privacy": _("personal data search"),
    "value": _("value"), "activities": _("activities"), "contacts": _("contacts"),
    "transactions": _("transactions"), "history": _("history"), "tasks": _("tasks"),
    "account_plan_create": _("starting an account plan"),
    "account_plan_edit": _("editing an account plan"),
    "account_plan_competitor": _("an account plan's competitor sheet"),
    "account_plan_step": _("an account plan's action steps"),
}

CHANNELS = {"web": _("web"), "api": _("API"), "cli": _("command line"),
            "admin": _("admin site"), "system": _("kehu itself")}


def action_label(code: str) -> str:
    return str(ACTIONS.get(code, code))


def detail_key_label(key: str) -> str:
    return str(DETAIL_KEYS.get(key, key))


def detail_value(value, key: str = ""):
    """A detail's value as the reader reads it: yes or no for a flag, what a list entry
    listed in words, the value otherwise."""
    if value is True:
        return str(_("yes"))
    if value is False:
        return str(_("no"))
    if key == "list" and isinstance(value, str):
        return str(LISTS.get(value, value))
    if key == "part" and isinstance(value, str):
        return str(PARTS.get(value, value))
    return value


def channel_label(code: str) -> str:
    return str(CHANNELS.get(code, code))
