"""The progressive auto-dialer of a call-centre department (docs/work.md, "Auto-dialer").

When an operator is free (state idle), Okno takes the operator's next item through Next (the
same atomic claim as the button), dials the customer's number through the department's PBX line
and puts the operator through when the customer answers: the operator goes on the call with the
item open. No answer, busy and failed calls send the item back to the department's queue, due
again after the department's `retry_minutes`; after `max_attempts` tries it is closed as not
reached. The worker's `work_dialer` drain runs it all; `POST /api/v1/work/dialer/dial` lets an
operator ask for their call at once (with a clear refusal when it cannot be placed).

Never an abandoned call: a customer is dialled only for an operator who is free and has no
other call in flight (a partial unique index on in-flight attempts per operator), and only while
the department has a free line (`lines`).
"""

import logging
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from okno.core.errors import ApiError, FieldError
from okno.core.phones import InvalidPhone, normalize_phone
from okno.inbox.adapters.base import SendFailed
from okno.inbox.models import Channel
from okno.people.models import Department, User
from okno.telephony.dialer_originate import ANSWERED, PENDING, DialResult, can_dial, dial_progressive
from okno.telephony.models import Call, PbxExtension
from okno.work import queue
from okno.work.models import WorkItem
from okno.work.models_dialer import IN_FLIGHT, DialAttempt, DialerSettings
from okno.work.models_states import AgentState, AgentStatus
from okno.work.queue_settings import department_row_save
from okno.work.services import workitem_done
from okno.work.states import agent_state_set

log = logging.getLogger(__name__)

SETTING_LIMITS = {"lines": (1, 500), "ring_seconds": (5, 120), "max_attempts": (1, 20)}
# The worker's lease on a dialing attempt: ring time plus this; past it the worker is presumed gone.
LEASE_MARGIN_SECONDS = 60
# Items without a number skipped in one go before the operator is told nothing is dialable.
NUMBERLESS_SKIPS = 5
# Calls placed at once by one drain pass (each waits for its PBX's answer in a thread).
DIAL_BATCH = 50
FAILED_STATUSES = (DialAttempt.Status.NO_ANSWER, DialAttempt.Status.BUSY, DialAttempt.Status.FAILED)


# -- settings ---------------------------------------------------------------------------------

def dialer_settings_for(department: Department) -> DialerSettings:
    return DialerSettings.objects.filter(department=department).first() or DialerSettings(department=department)


def dialer_settings_update(*, actor: User, department: Department, data: dict) -> DialerSettings:
    """`{"enabled", "channel_id", "lines", "ring_seconds", "max_attempts"}`; each refusal names
    its field and nothing is saved. Turning the dialer on needs a line that can dial."""
    queue.access_department_settings(actor=actor, department=department, write=True)
    if not isinstance(data, dict):
        raise FieldError({"body": "must be a JSON object"})
    row = dialer_settings_for(department)
    errors: dict[str, str] = {}
    for key in data:
        if key not in SETTING_LIMITS and key not in ("enabled", "channel_id"):
            errors[key] = "unknown field"
    if "enabled" in data:
        if not isinstance(data["enabled"], bool):
            errors["enabled"] = "must be true or false"
        else:
            row.enabled = data["enabled"]
    if "channel_id" in data:
        raw = data["channel_id"]
        if raw is None:
            row.channel = None
        else:
            channel = Channel.objects.filter(pk=raw).first() if isinstance(raw, int) and not isinstance(
                raw, bool) else None
            if channel is None or not channel.is_active:
                errors["channel_id"] = "no such active line"
            elif not can_dial(channel):
                errors["channel_id"] = f"a {channel.kind} line cannot dial for the auto-dialer (asterisk, telphin can)"
            else:
                row.channel = channel
    for key, (least, most) in SETTING_LIMITS.items():
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= most:
                errors[key] = f"must be a whole number from {least} to {most}"
            else:
                setattr(row, key, value)
    if not errors and row.enabled and row.channel_id is None:
        errors["channel_id"] = "the auto-dialer needs a line to dial through"
    if errors:
        raise FieldError(errors)
    return department_row_save(row, department)


# -- planning: a free operator gets the next item's call ----------------------------------------

def _refuse(reason: str, status: int = 409, **extra) -> ApiError:
    return ApiError(reason, status=status, **extra)


def _item_number(item: WorkItem) -> str:
    raw = item.number
    if not raw and item.contact_id:
        phone = item.contact.phones.order_by("id").first() if item.contact else None
        raw = phone.e164 if phone is not None else ""
    if not raw:
        return ""
    try:
        return normalize_phone(raw).e164
    except InvalidPhone:
        return ""


def lines_busy(rules: DialerSettings) -> int:
    return DialAttempt.objects.filter(department_id=rules.department_id, status__in=IN_FLIGHT).count()


def dial_attempt_plan(*, operator: User, now: datetime | None = None) -> DialAttempt | None:
    """The operator's next call: their next item (claimed through Next) and a pending attempt for
    it, or None when nothing is due. Refusals (409 unless said): no department, the dialer off or
    without a line, no extension on that line (400, `extension`), not free, a call in flight
    already, no free line."""
    now = now or timezone.now()
    if not operator.department_id:
        raise _refuse(_("You belong to no department, so you have no queue"))
    rules = dialer_settings_for(operator.department)
    if not rules.enabled:
        raise _refuse(_("The auto-dialer is off in your department"))
    channel = rules.channel
    if channel is None or not channel.is_active:
        raise _refuse(_("The auto-dialer has no line to dial through"))
    extension = (PbxExtension.objects.filter(user=operator, channel=channel).order_by("pk")
                 .values_list("code", flat=True).first())
    if not extension:
        raise FieldError({"extension": "you have no extension on the auto-dialer's line"})
    state = AgentState.objects.filter(user=operator).values_list("state", flat=True).first()
    if state != AgentStatus.IDLE:
        label = dict(AgentStatus.choices).get(state or AgentStatus.OFFLINE, state)
        raise _refuse(_("You are not free (%(state)s): set yourself idle first") % {"state": label},
                      state=state or "offline")
    if DialAttempt.objects.filter(operator=operator, status__in=IN_FLIGHT).exists():
        raise _refuse(_("A call is already being placed for you"))
    busy = lines_busy(rules)
    if busy >= rules.lines:
        raise _refuse(_("No free line: all %(n)d lines are busy") % {"n": rules.lines}, lines=rules.lines,
                      lines_busy=busy)
    for _skip in range(NUMBERLESS_SKIPS):
        item = queue.workitem_next(actor=operator, now=now)
        if item is None:
            return None
        number = _item_number(item)
        try:
            with transaction.atomic():
                attempt = DialAttempt.objects.create(
                    item=item, operator=operator, department_id=operator.department_id, channel=channel,
                    extension=extension, number=number, command_id=f"okno-dial-{secrets.token_hex(10)}",
                    status=DialAttempt.Status.PENDING if number else DialAttempt.Status.FAILED,
                    reason="" if number else "no phone number to dial", finished_at=None if number else now)
        except IntegrityError:  # a parallel plan for this operator (or this item) won
            raise _refuse(_("A call is already being placed for you")) from None
        if number:
            return attempt
        _after_failure(attempt=attempt, rules=rules, now=now)
    return None


def dialer_tick(*, now: datetime | None = None) -> int:
    """Plans a call for every free operator of every department whose dialer is on, while lines
    last; returns how many calls were planned."""
    now = now or timezone.now()
    planned = 0
    for rules in DialerSettings.objects.filter(enabled=True, channel__isnull=False).select_related("channel"):
        free = (User.objects.filter(is_active=True, department_id=rules.department_id,
                                    pbx_extensions__channel_id=rules.channel_id)
                .filter(pk__in=AgentState.objects.filter(state=AgentStatus.IDLE).values("user_id"))
                .exclude(pk__in=DialAttempt.objects.filter(status__in=IN_FLIGHT).values("operator_id"))
                .distinct().order_by("pk"))
        for operator in free:
            try:
                attempt = dial_attempt_plan(operator=operator, now=now)
            except ApiError as exc:
                if "lines_busy" in exc.extra:
                    break  # no line for anyone else of the department either
                continue
            if attempt is None:
                break  # the department's queue is empty for now
            planned += 1
    return planned


# -- dialing and the outcome ------------------------------------------------------------------------

def dial_attempts_claim(*, limit: int = DIAL_BATCH, now: datetime | None = None) -> list[int]:
    """Moves up to `limit` pending attempts to dialing under a lease, each claimed by exactly one
    worker (SKIP LOCKED on PostgreSQL, then a conditional UPDATE)."""
    now = now or timezone.now()
    with transaction.atomic():
        qs = DialAttempt.objects.filter(status=DialAttempt.Status.PENDING).order_by("pk")
        if settings.IS_POSTGRES:
            qs = qs.select_for_update(skip_locked=True)
        ids = list(qs.values_list("pk", flat=True)[:limit])
        claimed = []
        for attempt in DialAttempt.objects.filter(pk__in=ids).select_related("department__dialer_settings"):
            rules = getattr(attempt.department, "dialer_settings", None) if attempt.department else None
            ring = rules.ring_seconds if rules else 30
            if DialAttempt.objects.filter(pk=attempt.pk, status=DialAttempt.Status.PENDING).update(
                    status=DialAttempt.Status.DIALING, dialed_at=now,
                    locked_until=now + timedelta(seconds=ring + LEASE_MARGIN_SECONDS)):
                claimed.append(attempt.pk)
    return claimed


def _after_failure(*, attempt: DialAttempt, rules: DialerSettings, now: datetime) -> None:
    """The item goes back to the department's queue after the retry time, or, tried enough, is
    closed as not reached."""
    item = attempt.item
    tries = DialAttempt.objects.filter(item=item, status__in=FAILED_STATUSES).count()
    if tries >= rules.max_attempts or not attempt.number:
        workitem_done(actor=None, item=item, reason=f"auto-dialer: not reached after {tries} tries"
                      if attempt.number else "auto-dialer: no phone number")
        return
    retry = queue.work_settings_for(item.department or attempt.department).retry_minutes
    WorkItem.objects.filter(pk=item.pk, status=WorkItem.Status.OPEN).update(
        due_at=now + timedelta(minutes=retry), assignee=None,
        department_id=item.department_id or attempt.department_id)


def dial_attempt_finish(*, attempt: DialAttempt, result: DialResult, now: datetime | None = None) -> bool:
    """Records the PBX's answer once (a conditional UPDATE: a late second answer changes nothing).
    Answered: the operator is on the call with the item. Otherwise the retry rule."""
    now = now or timezone.now()
    if result.outcome == PENDING:
        return False
    with transaction.atomic():
        if not DialAttempt.objects.filter(pk=attempt.pk, status=DialAttempt.Status.DIALING).update(
                status=result.outcome, reason=result.reason[:300], finished_at=now, locked_until=None):
            return False
        attempt.refresh_from_db()
        rules = dialer_settings_for(attempt.department) if attempt.department else DialerSettings()
        if result.outcome == ANSWERED:
            agent_state_set(user=attempt.operator, state=AgentStatus.ON_CALL, item=attempt.item, at=now)
        else:
            _after_failure(attempt=attempt, rules=rules, now=now)
    return True


def _dial(attempt: DialAttempt, ring_seconds: int) -> DialResult:
    """In a worker thread: the network only, no database."""
    try:
        return dial_progressive(attempt.channel, extension=attempt.extension, number=attempt.number,
                                command_id=attempt.command_id, ring_seconds=ring_seconds)
    except SendFailed as exc:
        return DialResult("failed", str(exc)[:300])
    except Exception as exc:  # noqa: BLE001 - one adapter's bug must not stop the other calls
        log.exception("auto-dialer call %s failed", attempt.pk)
        return DialResult("failed", f"error: {exc}"[:300])


def dial_attempts_run(ids: list[int], *, now: datetime | None = None) -> int:
    """Places the claimed calls at once (a thread each: a call waits for its ring time) and
    records each answer."""
    attempts = list(DialAttempt.objects.filter(pk__in=ids).select_related("channel", "item", "operator",
                                                                          "department"))
    if not attempts:
        return 0
    rings = {a.pk: dialer_settings_for(a.department).ring_seconds if a.department else 30 for a in attempts}
    with ThreadPoolExecutor(max_workers=min(len(attempts), DIAL_BATCH)) as pool:
        results = list(pool.map(lambda a: _dial(a, rings[a.pk]), attempts))
    for attempt, result in zip(attempts, results, strict=True):
        if result.outcome == PENDING:
            DialAttempt.objects.filter(pk=attempt.pk).update(reason=result.reason[:300])
            continue
        dial_attempt_finish(attempt=attempt, result=result, now=now)
    return len(attempts)


def dial_leases_expire(*, now: datetime | None = None) -> int:
    """Dialing attempts past their lease: a Telphin call's outcome read from the Call its events
    made (the customer's number on the line since the dial), else failed (the worker died or the
    PBX never said)."""
    now = now or timezone.now()
    expired = list(DialAttempt.objects.filter(status=DialAttempt.Status.DIALING, locked_until__lt=now)
                   .select_related("item", "operator", "department"))
    for attempt in expired:
        dial_attempt_finish(attempt=attempt, result=_outcome_from_calls(attempt), now=now)
    return len(expired)


def _outcome_from_calls(attempt: DialAttempt) -> DialResult:
    since = (attempt.dialed_at or attempt.created_at) - timedelta(seconds=5)
    call = (Call.objects.filter(channel_id=attempt.channel_id, started_at__gte=since)
            .filter(Q(customer_number=attempt.number) | Q(customer_number=attempt.number.lstrip("+")))
            .order_by("started_at").first())
    if call is None:
        return DialResult("failed", "no word of the call from the PBX")
    if call.answered_at is not None:
        return DialResult(ANSWERED, "answered (from the PBX's call events)")
    if call.outcome == "busy":
        return DialResult("busy", "busy (from the PBX's call events)")
    return DialResult("no_answer", f"{call.outcome} (from the PBX's call events)")


_pool: ThreadPoolExecutor | None = None


def _dial_one(pk: int) -> None:
    """A background thread's call: its own database connection, closed after."""
    from django.db import connection

    try:
        dial_attempts_run([pk])
    except Exception:  # noqa: BLE001 - the lease expiry records the attempt as failed
        log.exception("auto-dialer call %s failed", pk)
    finally:
        connection.close()


def dialer_drain(*, wait: bool = False) -> int:
    """The worker's drain: expire leases, plan calls for free operators, place them. The calls
    run in background threads (each waits up to its ring time for the PBX's answer), so the
    worker's other drains are not held up; `wait` places them in the caller's thread (tests)."""
    global _pool
    now = timezone.now()
    done = dial_leases_expire(now=now)
    dialer_tick(now=now)
    ids = dial_attempts_claim(now=now)
    if wait:
        return done + dial_attempts_run(ids, now=now)
    if ids:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=DIAL_BATCH, thread_name_prefix="okno-dialer")
        for pk in ids:
            _pool.submit(_dial_one, pk)
    return done + len(ids)
