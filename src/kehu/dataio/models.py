"""Import batches, what each one wrote, and saved column mappings."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    CONTACTS = "contacts", _("Contacts")
    TRANSACTIONS = "transactions", _("Transactions")
    PRODUCTS = "products", _("Products")
    ACTIVITIES = "activities", _("Activities")
    RECEIVABLES = "receivables", _("Receivables")
    PAYMENTS = "payments", _("Payments")
    LEADS = "leads", _("Leads")


class ImportMapping(models.Model):
    """A user's correction of the automatic header → field matching, kept for next time."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    # {"file header": "field name"}; a header mapped to "" is ignored on purpose.
    mapping = models.JSONField(_("column mapping"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"],
                                               name="dataio_mapping_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"


class BatchStatus(models.TextChoices):
    DONE = "done", _("Imported")
    UNDONE = "undone", _("Undone")


class ImportBatch(models.Model):
    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=BatchStatus.choices,
                              default=BatchStatus.DONE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("imported by"))
    created_at = models.DateTimeField(_("started at"), auto_now_add=True)
    # Rows the batch wrote carry an updated_at no later than this; a later one means that
    # somebody changed the row since, and the batch can no longer be undone blindly.
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)
    undone_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+",
                                  verbose_name=_("undone by"))

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.file_name}"


class ImportedRows(models.Model):
    """A run of consecutive ids that one batch created in one table.

    A million imported transactions are a few hundred runs rather than a million link
    rows, which would double the work of the import. Ids are recorded as the database
    returned them, so a run never covers a row somebody else created meanwhile."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="row_runs")
    model = models.CharField(max_length=60)  # app_label.model_name
    first_id = models.BigIntegerField()
    last_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["model", "first_id"])]

    def __str__(self) -> str:
        return f"{self.model} {self.first_id}–{self.last_id}"


class ImportedUpdate(models.Model):
    """An existing record that a batch updated ("update existing"), with the values it had,
    so that undoing the batch can put them back."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="updates")
    model = models.CharField(max_length=60)
    object_id = models.BigIntegerField()
    previous = models.JSONField(default=dict)
    # The record's version right after the import (None for models without versions).
    version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["model", "object_id"])]

    def __str__(self) -> str:
        return f"{self.model} {self.object_id}"


class ImportUpload(models.Model):
    """A file handed to the import wizard, kept (privately, under KEHU_UPLOAD_DIR) from the
    upload through the column mapping and preview until it has been imported."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+", verbose_name=_("uploaded by"))
    kind = models.CharField(_("kind"), max_length=20, choices=ImportKind.choices)
    file_name = models.CharField(_("file name"), max_length=255)
    stored_name = models.CharField(max_length=100)
    size = models.BigIntegerField(_("size"), default=0)
    update_existing = models.BooleanField(_("update existing"), default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+",
                              verbose_name=_("owner"))
    # The user's corrections of the automatic matching: {"file header": "field" or ""}.
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL,
                            related_name="+")
    batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("uploaded import file")
        verbose_name_plural = _("uploaded import files")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.file_name


# Duplicates ---------------------------------------------------------------------------------
# Match keys and candidate pairs are derived data, rebuilt by the duplicate scan; they hang
# off customers and contacts without a reverse accessor ("+") and go when their record goes.

class CustomerKey(models.Model):
    """One blocking key of a customer (a normalised phone, e-mail, name, pinyin...):
    customers that share a key are compared, nobody else, so the scan never compares every
    customer with every other."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE,
                                 related_name="+")
    key = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["key", "customer"])]

    def __str__(self) -> str:
        return self.key


class ContactKey(models.Model):
    contact = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["key", "contact"])]

    def __str__(self) -> str:
        return self.key


class PairStatus(models.TextChoices):
    OPEN = "open", _("To review")
    DISMISSED = "dismissed", _("Not a duplicate")


class _Pair(models.Model):
    score = models.PositiveSmallIntegerField(_("score"))
    # [{"code": "phone", "value": "13800138000"}, {"code": "name", "value": 93}...]
    reasons = models.JSONField(_("reasons"), default=list)
    status = models.CharField(_("status"), max_length=10, choices=PairStatus.choices,
                              default=PairStatus.OPEN)
    found_at = models.DateTimeField(_("found at"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("decided by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.a_id} ~ {self.b_id} ({self.score})"


class CustomerPair(_Pair):
    """Two customers that are likely one; a is always the one with the smaller id."""

    a = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    b = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("likely duplicate customers")
        verbose_name_plural = _("likely duplicate customers")
        indexes = [models.Index(fields=["status", "score"])]
        constraints = [
            models.UniqueConstraint(fields=["a", "b"], name="dataio_customer_pair_unique"),
            models.CheckConstraint(condition=models.Q(a__lt=models.F("b")),
                                   name="dataio_customer_pair_ordered"),
        ]


class ContactPair(_Pair):
    """Two contacts that are likely one person; a is always the one with the smaller id."""

    a = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="+")
    b = models.ForeignKey("customers.Contact", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("likely duplicate contacts")
        verbose_name_plural = _("likely duplicate contacts")
        indexes = [models.Index(fields=["status", "score"])]
        constraints = [
            models.UniqueConstraint(fields=["a", "b"], name="dataio_contact_pair_unique"),
            models.CheckConstraint(condition=models.Q(a__lt=models.F("b")),
                                   name="dataio_contact_pair_ordered"),
        ]


class DedupScan(models.Model):
    """When the duplicate scan of customers or of contacts last refreshed its keys: the
    next scan only needs the records changed since."""

    kind = models.CharField(max_length=20, unique=True)
    scanned_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.kind} {self.scanned_at:%Y-%m-%d %H:%M}"
