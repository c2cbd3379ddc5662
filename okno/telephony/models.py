from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PbxExtension(models.Model):
    """Who an extension (SIP user, PBX user id) of a PBX channel is."""

    channel = models.ForeignKey("inbox.Channel", on_delete=models.CASCADE, related_name="extensions")
    code = models.CharField(_("extension"), max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pbx_extensions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "code"], name="pbx_extension_code")]


class Call(models.Model):
    """One call as the customer lived it, whatever legs and transfers the PBX made of it.

    Its fields are derived from `facts`, every distinct thing the PBX reported (okno.telephony.calls),
    so events that arrive twice or out of order make the same call.
    """

    class Direction(models.TextChoices):
        IN = "in", _("inbound")
        OUT = "out", _("outbound")
        INTERNAL = "internal", _("internal")

    class Outcome(models.TextChoices):
        ONGOING = "ongoing", _("in progress")
        ANSWERED = "answered", _("answered")
        MISSED = "missed", _("missed")
        BUSY = "busy", _("busy")
        FAILED = "failed", _("failed")
        ABANDONED = "abandoned", _("abandoned in IVR")
        VOICEMAIL = "voicemail", _("voicemail")
        # An answering machine took an outbound call (the PBX's AMD said so): not a conversation.
        MACHINE = "machine", _("answering machine")

    # No single-column indexes where a composite one leads with the column (channel: the unique
    # (channel, pbx_call_id); contact: (contact, -started_at); employee: (employee, started_at)):
    # the composite serves the same look-ups and foreign-key actions, and each index is one more
    # entry written per call (docs/benchmarks.md, bench_cdr).
    channel = models.ForeignKey("inbox.Channel", on_delete=models.PROTECT, related_name="calls", db_index=False)
    pbx_call_id = models.CharField(max_length=128)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.IN)
    # The customer's number in E.164 when it parses, else as the PBX sent it.
    customer_number = models.CharField(max_length=64, blank=True)
    line = models.CharField(_("line"), max_length=64, blank=True)
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="calls", db_index=False)
    employee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="calls", db_index=False)
    department = models.ForeignKey("people.Department", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    # An extension no PbxExtension names: the call is kept and listed for an administrator.
    unmatched_extension = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)  # by a person, not the IVR
    ended_at = models.DateTimeField(null=True, blank=True)
    wait_seconds = models.PositiveIntegerField(null=True, blank=True)  # greeting, IVR and ringing
    talk_seconds = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.ONGOING)
    recording_id = models.CharField(max_length=255, blank=True)
    # The callback this missed call made or folded into: a call counts once, however often recomputed.
    callback = models.ForeignKey("work.WorkItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Missed as things stand: owes a callback once OKNO_CALLBACK_GRACE_SECONDS pass without a
    # later fact (the next extension answering) saying otherwise (okno.telephony.calls).
    callback_due = models.BooleanField(default=False)
    facts = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["channel", "pbx_call_id"], name="call_pbx_id")]
        indexes = [
            models.Index(fields=["contact", "-started_at"]), models.Index(fields=["employee", "started_at"]),
            models.Index(fields=["ended_at"], condition=models.Q(callback_due=True), name="call_callback_due"),
            # The calls of one number in time: the report's "called back" look-up (outbound calls to
            # the missed calls' numbers after them) probes it once per number (docs/analytics.md).
            models.Index(fields=["customer_number", "started_at"], name="call_customer_started"),
        ]


class CallLeg(models.Model):
    """One leg of a call: the PBX ringing one employee (a transfer makes another leg)."""

    # Indexed by the unique (call, leg_id), which leads with it (see Call.channel).
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="legs", db_index=False)
    leg_id = models.CharField(max_length=128)
    extension = models.CharField(max_length=64, blank=True)
    employee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [models.UniqueConstraint(fields=["call", "leg_id"], name="call_leg_id")]


class CallRequest(models.Model):
    """Click-to-call: ring the employee, then the customer. A row the worker sends to the PBX,
    retried with back-off, so a PBX that is down for a minute loses no request."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")

    channel = models.ForeignKey("inbox.Channel", on_delete=models.PROTECT, related_name="call_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    extension = models.CharField(max_length=64)
    number = models.CharField(max_length=64)
    contact = models.ForeignKey("contacts.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")
    # Our id of the command; the PBX echoes it in the call's events (Mango's command_id).
    command_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    run_after = models.DateTimeField(auto_now_add=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "run_after"], name="call_request_ready")]


class CallRecording(models.Model):
    """A call's recording, fetched from the PBX into our storage by the worker's `recordings` drain.

    A row is made when a PBX event names the recording; the drain downloads it, retrying with
    back-off, and keeps the error once it gives up. A channel with `recording_store: false` keeps
    nothing: the row is LINKED, and each play asks the PBX for a fresh short-lived link
    (okno.telephony.recordings). Either way the file reaches only users who may see the card.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        STORED = "stored", _("stored")
        LINKED = "linked", _("linked")
        FAILED = "failed", _("failed")

    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="recording")
    recording_id = models.CharField(max_length=255)  # the PBX's id of it, as on Call.recording_id
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)  # tries by the drain (claim_batch counts them)
    run_after = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    path = models.CharField(max_length=255, blank=True)  # in Django's default storage
    content_type = models.CharField(max_length=32, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "run_after"], name="call_recording_ready")]


class SignatureUse(models.Model):
    """A signed PBX event's signature and the call it first came with: Zadarma signs only some of
    an event's fields (not `pbx_call_id`), so a signature seen again with another call is a
    replay (okno.telephony.replays). Kept as long as an event of the call may still arrive."""

    channel = models.ForeignKey("inbox.Channel", on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=128)
    call_id = models.CharField(max_length=128)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "signature"], name="pbx_signature_use")]
