from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from okno.core.phones import format_phone


class Company(models.Model):
    name = models.CharField(_("company"), max_length=300)
    # Lower-cased, ё folded to е: SQLite's LIKE ignores case only for ASCII, so search
    # runs on this column on both databases.
    search_name = models.CharField(max_length=300, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    # Requisites (okno/contacts/companies.py checks them; okno/core/requisites.py has the check digits).
    inn = models.CharField(_("INN"), max_length=12, blank=True, db_index=True)
    kpp = models.CharField(_("KPP"), max_length=9, blank=True)
    ogrn = models.CharField(_("OGRN / OGRNIP"), max_length=15, blank=True)
    legal_address = models.CharField(_("legal address"), max_length=500, blank=True)
    actual_address = models.CharField(_("actual address"), max_length=500, blank=True)
    bank_name = models.CharField(_("bank"), max_length=300, blank=True)
    bik = models.CharField(_("BIK"), max_length=9, blank=True)
    settlement_account = models.CharField(_("settlement account"), max_length=20, blank=True)
    correspondent_account = models.CharField(_("correspondent account"), max_length=20, blank=True)
    # [{"e164": "+74951234567", "extension": "12"}, ...], normalised by okno.core.phones.
    phones = models.JSONField(_("phones"), default=list, blank=True)
    # Normalised by okno.core.emails.
    emails = models.JSONField(_("e-mails"), default=list, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="companies_responsible_for", verbose_name=_("responsible"),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def phone_rows(self) -> list[dict]:
        """Phones ready to draw: e164, extension and the display form."""
        return [{**p, "display": format_phone(p.get("e164", ""), p.get("extension", ""))} for p in self.phones or []]


class Tag(models.Model):
    name = models.CharField(_("tag"), max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class CustomField(models.Model):
    """A field an administrator adds to every card; values live in Contact.custom[key]."""

    class Type(models.TextChoices):
        TEXT = "text", _("text")
        NUMBER = "number", _("number")
        DATE = "date", _("date")
        CHOICE = "choice", _("choice")

    key = models.SlugField(_("key"), max_length=64, unique=True)
    label = models.CharField(_("label"), max_length=200)
    type = models.CharField(_("type"), max_length=16, choices=Type.choices, default=Type.TEXT)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.label


class Contact(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        MERGED = "merged", _("merged")
        DELETED = "deleted", _("deleted")

    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    middle_name = models.CharField(_("middle name"), max_length=150, blank=True)
    company = models.ForeignKey(
        Company, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts", verbose_name=_("company")
    )
    city = models.CharField(_("city"), max_length=150, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="responsible_for", verbose_name=_("responsible"),
    )
    # The department that owns the card (visibility); defaults to the responsible's.
    department = models.ForeignKey(
        "people.Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts",
        verbose_name=_("department"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts", verbose_name=_("tags"))
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    # A merged-away card keeps existing (so the merge can be undone) and redirects here.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    # Lower-cased "last first middle company", ё folded: substring search on both databases.
    search_text = models.CharField(max_length=700, blank=True, editable=False)
    # Set on every change that can affect matching; the background scan clears it. Indexed only
    # by the partial index on dirty ids (migrations 0003, 0004): a plain index on the flag
    # tempted the planner into reading every dirty row for each batch of the scan.
    dedup_dirty = models.BooleanField(default=True, editable=False)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.full_name or f"#{self.pk}"

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)


class ContactPhone(models.Model):
    class Kind(models.TextChoices):
        MOBILE = "mobile", _("mobile")
        WORK = "work", _("work")
        HOME = "home", _("home")
        OTHER = "other", _("other")

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="phones")
    e164 = models.CharField(max_length=20, db_index=True)
    extension = models.CharField(max_length=10, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MOBILE)
    raw = models.CharField(max_length=64, blank=True, help_text="as it was typed or received")

    class Meta:
        ordering = ["id"]

    @property
    def display(self) -> str:
        return format_phone(self.e164, self.extension)


class ContactEmail(models.Model):
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="emails")
    email = models.CharField(max_length=254, db_index=True)

    class Meta:
        ordering = ["id"]


class MessengerHandle(models.Model):
    """A customer's identity in a messenger or chat widget (Telegram user id, Jivo token...)."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="handles")
    kind = models.CharField(max_length=32)
    handle = models.CharField(max_length=255)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["kind", "handle"])]


class FieldChange(models.Model):
    """Field-level history of a card: who changed what, when, from what to what."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="history")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    field = models.CharField(max_length=100)
    old = models.TextField(blank=True)
    new = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]


class ContactMatchKey(models.Model):
    """Blocking keys for duplicate search (see matching.py): candidates share a key."""

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="match_keys")
    key = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["key", "contact"])]


class DuplicatePair(models.Model):
    """One pair found by the background scan; groups are its connected components."""

    class Level(models.TextChoices):
        CERTAIN = "certain", _("certain")
        LIKELY = "likely", _("likely")
        POSSIBLE = "possible", _("possible")

    contact_a = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    contact_b = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=16, choices=Level.choices)
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    found_at = models.DateTimeField(auto_now=True)
    # "Not a duplicate", said by a person: the scan does not bring the pair back.
    dismissed = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contact_a", "contact_b"], name="duplicate_pair_unique")]
        indexes = [models.Index(fields=["-score"])]


class ContactMerge(models.Model):
    """A merge as it happened, with everything needed to undo it."""

    kept = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="merges_kept")
    merged_ids = models.JSONField(default=list)
    # What moved, per registered rule and original card, the rows deleted as repeats (in
    # serialised form), and the kept card's values before the merge: docs/merge.md.
    snapshot = models.JSONField(default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )


class ImportJob(models.Model):
    """An import of contacts from CSV/XLSX: the file, the mapping, and a per-row report."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("uploaded")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    class OnDuplicate(models.TextChoices):
        SKIP = "skip", _("skip")
        MERGE = "merge", _("merge into the existing card")
        CREATE = "create", _("create anyway")

    file = models.FileField(upload_to="imports/")
    original_name = models.CharField(max_length=255)
    mapping = models.JSONField(default=dict)
    on_duplicate = models.CharField(max_length=16, choices=OnDuplicate.choices, default=OnDuplicate.SKIP)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    merged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)


class ExportJob(models.Model):
    """A large export (contacts or deals) written by the worker: its list's query, progress and
    file. The file is served only to `created_by` and removed after EXPORT_KEEP (okno/contacts/export_jobs.py)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    class Kind(models.TextChoices):
        CONTACTS = "contacts", _("contacts")
        DEALS = "deals", _("deals")

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CONTACTS)
    format = models.CharField(max_length=8, default="xlsx")
    params = models.JSONField(default=dict)
    language = models.CharField(max_length=16, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    written_rows = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="exports/", blank=True)
    filename = models.CharField(max_length=100, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
