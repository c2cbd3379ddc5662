"""The process report's requests: conversations (chats, forms, e-mails, messengers) started in the
period, and the spam that never became one. What counts as unanswered is the administrator's
setting (AnalyticsSettings: `unanswered_min_stay_seconds`, `unanswered_counts_offline`):

- spam: a chat the provider marked (Jivo's blacklisted: `Conversation.spam`), or a form
  submission caught by the honeypot (an ignored inbound event, no conversation): in no other figure;
- requests: every other conversation;
- answered: an employee replied (an outbound message, or the provider's `first_reply_at`);
- offline: an unanswered chat that is an offline message (left while nobody was online); it counts
  as unanswered too when `unanswered_counts_offline`;
- left at once (`left_quickly`): unanswered, not offline, and the visitor stayed less than
  `unanswered_min_stay_seconds` (from the start to the chat's end, else its last message);
- unanswered: the rest of the unanswered (and the offline ones, by the setting).
Only chats have a visitor who stays or leaves; a form, an e-mail or a message with no reply is
unanswered whatever its length.
"""

from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce

from okno.analytics.chats_report import department_expr
from okno.analytics.scope import process_scope_q
from okno.analytics.services import analytics_settings_get
from okno.inbox.models import Conversation, InboundEvent, Message

# The report's groupings, in the order of the rollup's key tuple (okno.analytics.process_rollup).
GROUPS = ("source", "department", "employee", "pipeline")
# The form adapter's reason for a honeypot hit (okno/inbox/adapters/form.py).
FORM_SPAM_PREFIX = "honeypot"
KEYS = {"source": "channel__name", "department": "dep", "employee": "operator_id", "pipeline": None}


def _norm(group_by: str, key):
    if group_by == "source":
        return key or None  # "" and None are one row: "No source"
    return key


def row_key(group_by: str, fields: dict, row: dict):
    """A row's group key; for group_by "rollup" (the rollup's build) the tuple of every grouping's
    key (source, department, employee, pipeline), None where the part has none. `fields`: the
    part's field per grouping."""
    if group_by == "rollup":
        return tuple(_norm(g, row[fields[g]]) if fields.get(g) else None for g in GROUPS)
    field = fields.get(group_by)
    return _norm(group_by, row[field]) if field else None


def streamed(qs, extra: dict | None):
    """The rows of a period read whole in chunks (a server-side cursor on PostgreSQL); those of
    a narrower question (`extra`: the rollup's live rest, a day's build) at once: the cursor's
    round trips were most of the time of a few dozen rows."""
    return qs.iterator(chunk_size=5000) if extra is None else qs


def _scoped_conversations(*, user, query, lo, hi):
    replied = Exists(Message.objects.filter(conversation_id=OuterRef("pk"), direction=Message.Direction.OUT))
    offline = Exists(Message.objects.filter(conversation_id=OuterRef("pk"), external_id__startswith="offline:"))
    qs = (Conversation.objects.filter(started_at__gte=lo, started_at__lt=hi)
          .annotate(dep=department_expr(), replied=replied, offline=offline,
                    ended=Coalesce("finished_at", "last_message_at")))
    if user is not None:  # None: everything (the rollup's build)
        qs = qs.filter(process_scope_q(user, department_field="dep", employee_field="operator_id"))
    if query.department is not None:
        qs = qs.filter(dep=query.department)
    if query.employee is not None:
        qs = qs.filter(operator_id=query.employee)
    return qs


def request_items(*, user, query, lo, hi, extra: dict | None = None):
    """(("conversation", id) or ("event", id), when, group key, counts) of each request started
    in the period and each honeypot hit: requests, unanswered, left_quickly, offline and spam.
    `extra`: a further filter of conversations ("requests") and honeypot hits ("form_spam"), None
    for none of them (the rollup's part of the period, okno.analytics.process_rollup)."""
    if not (extra and "requests" in extra and extra["requests"] is None):
        yield from _conversation_items(user=user, query=query, lo=lo, hi=hi, extra=extra)
    if not (extra and "form_spam" in extra and extra["form_spam"] is None):
        yield from _form_spam(user=user, query=query, lo=lo, hi=hi, extra=extra)


def _conversation_items(*, user, query, lo, hi, extra: dict | None = None):
    conf = analytics_settings_get()
    qs = _scoped_conversations(user=user, query=query, lo=lo, hi=hi)
    if extra and "requests" in extra:
        qs = qs.filter(extra["requests"])
    fields = ["pk", "kind", "spam", "replied", "offline", "first_reply_at", "started_at", "ended",
              *sorted({f for f in KEYS.values() if f})]
    for row in streamed(qs.values(*fields).order_by(), extra):
        key = row_key(query.group_by, KEYS, row)
        ref = ("conversation", row["pk"])
        if row["spam"]:
            yield ref, row["started_at"], key, {"spam": 1}
            continue
        if row["replied"] or row["first_reply_at"] is not None:
            yield ref, row["started_at"], key, {"requests": 1}
            continue
        if row["offline"]:
            yield ref, row["started_at"], key, {"requests": 1, "offline": 1,
                                                "unanswered": int(conf.unanswered_counts_offline)}
            continue
        stayed = (row["ended"] - row["started_at"]).total_seconds() if row["ended"] else 0
        if row["kind"] == Conversation.Kind.CHAT and stayed < conf.unanswered_min_stay_seconds:
            yield ref, row["started_at"], key, {"requests": 1, "left_quickly": 1}
        else:
            yield ref, row["started_at"], key, {"requests": 1, "unanswered": 1}


def _form_spam(*, user, query, lo, hi, extra=None):
    """Honeypot hits: ignored events with no conversation, so no operator; counted by their channel
    (its name is the source, its department the department) for whom may see the channel's tree."""
    if query.employee is not None:
        return  # an employee's figures have no form spam: nobody was its operator
    qs = InboundEvent.objects.filter(status=InboundEvent.Status.IGNORED, error__startswith=FORM_SPAM_PREFIX,
                                     received_at__gte=lo, received_at__lt=hi)
    if user is not None:
        qs = qs.filter(process_scope_q(user, department_field="channel__department_id", employee_field=None))
    if query.department is not None:
        qs = qs.filter(channel__department_id=query.department)
    if extra and "form_spam" in extra:
        qs = qs.filter(extra["form_spam"])
    fields = {"source": "channel__name", "department": "channel__department_id"}
    for row in streamed(qs.values("pk", "received_at", *fields.values()).order_by(), extra):
        yield ("event", row["pk"]), row["received_at"], row_key(query.group_by, fields, row), {"spam": 1}
