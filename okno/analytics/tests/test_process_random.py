"""The process report equals a plain Python reading of the raw rows (deals and their stage
changes, leads and deadlines, conversations and messages, callback work items), for 80 random
(period, grouping, comparison, filters, viewer, settings) combinations."""

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from okno.analytics.models import AnalyticsSettings
from okno.analytics.periods import Period
from okno.analytics.process_report import ProcessQuery, process_report
from okno.analytics.tests.chats_factories import jivo_channel, make_chat
from okno.analytics.tests.factories import local
from okno.analytics.tests.process_factories import deal_path, make_callback, make_lead
from okno.contacts.tests.factories import make_contact
from okno.deals.models import Deal, DealStageChange, Lead, Stage
from okno.deals.tests.factories import PipelineFactory
from okno.inbox.models import Conversation, InboundEvent, Message
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory
from okno.robots.models_runs import Deadline
from okno.work.models import WorkItem

START = date(2026, 9, 1)
SPAN_DAYS = 60
NOW = local("2026-12-15")
SOURCES = ["", "Сайт", "Магазин", "Реклама"]


def _at(rnd):
    day = START + timedelta(days=rnd.randrange(SPAN_DAYS))
    return local(day.isoformat(), rnd.randrange(24), rnd.randrange(60))


def _company(rnd: random.Random):
    sales = DepartmentFactory(name="Продажи")
    desk = DepartmentFactory(name="Сектор", parent=sales)
    support = DepartmentFactory(name="Поддержка")
    people = [UserFactory(department=d) for d in (sales, desk, desk, support)]
    head = UserFactory(role=User.Role.HEAD, department=sales)
    admin = UserFactory(role=User.Role.ADMIN, department=None)
    pipelines = [PipelineFactory(name="Заказы"), PipelineFactory(name="Опт")]
    customer = make_contact(first_name="Клиент")
    for _ in range(80):
        moves = [(rnd.choice([30, 400, 3600]), rnd.randrange(5)) for _ in range(rnd.choice([0, 1, 2, 3]))]
        deal_path(pipeline=rnd.choice(pipelines), at=_at(rnd), moves=moves, responsible=rnd.choice([*people, None]),
                  source=rnd.choice(SOURCES), department=rnd.choice([None, support]) if rnd.random() < 0.2 else None)
    for _ in range(60):
        make_lead(contact=customer, at=_at(rnd), source=rnd.choice(SOURCES), assignee=rnd.choice([*people, None]),
                  status=rnd.choice(list(Lead.Status.values)), late=rnd.random() < 0.3)
    channels = [jivo_channel(department=sales, name="Магазин"), jivo_channel(department=support, name="Помощь")]
    for _ in range(60):
        replies = tuple(rnd.choice([5, 60]) for _ in range(rnd.choice([0, 0, 1, 2])))
        make_chat(channel=rnd.choice(channels), at=_at(rnd), operator=rnd.choice([*people, None]), replies=replies,
                  offline=not replies and rnd.random() < 0.4, spam=rnd.random() < 0.1,
                  finished_after=rnd.choice([None, 20, 59, 60, 600]), contact=customer)
    for _ in range(15):
        InboundEvent.objects.create(channel=rnd.choice(channels), received_at=_at(rnd), body=b"{}",
                                    status=InboundEvent.Status.IGNORED,
                                    error=rnd.choice(["honeypot field filled in: spam", "nothing to match"]))
    for _ in range(40):
        make_callback(at=_at(rnd), due_minutes=rnd.choice([5, 30]), closed_minutes=rnd.choice([None, 3, 10, 60]),
                      assignee=rnd.choice([*people, None]))
    return {"viewers": [admin, head, people[1], people[3]], "people": people, "departments": [sales, desk, support]}


def _in_tree(user, dep) -> bool:
    return dep in user.department.subtree_ids()


def _visible(user, dep, emp) -> bool:
    if user.is_admin:
        return True
    if user.role == User.Role.HEAD:
        return _in_tree(user, dep)
    return emp is not None and emp == user.pk


def _avg(total, n):
    return round(total / n, 1) if n else None


def expected(data, *, user, query: ProcessQuery, period: Period, conf):
    tz = ZoneInfo(settings.TIME_ZONE)
    lo = datetime.combine(period.start, time.min, tzinfo=tz)
    hi = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz)
    g = query.group_by
    accs = defaultdict(lambda: defaultdict(float))

    def take(at, dep, emp):
        return (lo <= at < hi and _visible(user, dep, emp)
                and (query.department is None or dep == query.department)
                and (query.employee is None or emp == query.employee))

    kinds = {s.pk: s.kind for s in data["stages"]}
    first = {}
    for s in sorted(data["stages"], key=lambda s: (s.pipeline_id, s.position, s.pk)):
        first.setdefault(s.pipeline_id, s.pk)
    for d in data["deals"]:
        if not take(d.created_at, d.department_id, d.responsible_id):
            continue
        key = {"source": d.source or None, "department": d.department_id, "employee": d.responsible_id,
               "pipeline": d.pipeline_id}[g]
        a = accs[key]
        a["deals"] += 1
        changes = data["changes"][d.pk]
        done = [c for c in changes if c.from_stage_id and c.to_stage_id != first[d.pipeline_id]
                and kinds[c.to_stage_id] in ("open", "won")]
        if done:
            a["processed"] += 1
            a["processing"] += (done[0].at - d.created_at).total_seconds()
        entered = None
        for c in changes:
            if c.from_stage_id and kinds[c.from_stage_id] == "paused" and entered is not None:
                a["pauses"] += 1
                a["pause"] += (c.at - entered).total_seconds()
                entered = None
            if kinds[c.to_stage_id] == "paused":
                entered = c.at
        a["paused"] += any(kinds[c.to_stage_id] == "paused" for c in changes)
        a["lost_in_pause"] += any(c.from_stage_id and kinds[c.from_stage_id] == "paused"
                                  and kinds[c.to_stage_id] == "lost" for c in changes)
    for lead in data["leads"]:
        if not take(lead.created_at, lead.department_id, lead.assignee_id):
            continue
        key = {"source": lead.source or None, "department": lead.department_id, "employee": lead.assignee_id,
               "pipeline": None}[g]
        a = accs[key]
        a["leads"] += 1
        a["converted"] += lead.status == "converted" or lead.pk in data["deal_leads"]
        a["late"] += lead.pk in data["late_leads"]
    for c in data["conversations"]:
        dep = c.operator.department_id if c.operator_id and c.operator.department_id else c.channel.department_id
        if not take(c.started_at, dep, c.operator_id):
            continue
        key = {"source": c.channel.name, "department": dep, "employee": c.operator_id, "pipeline": None}[g]
        a = accs[key]
        if c.spam:
            a["spam"] += 1
            continue
        a["requests"] += 1
        lines = data["messages"][c.pk]
        if c.first_reply_at or any(m.direction == "out" for m in lines):
            continue
        if any(m.external_id.startswith("offline:") for m in lines):
            a["offline"] += 1
            a["unanswered"] += conf.unanswered_counts_offline
            continue
        stayed = ((c.finished_at or c.last_message_at) - c.started_at).total_seconds()
        if stayed < conf.unanswered_min_stay_seconds:
            a["left_quickly"] += 1
        else:
            a["unanswered"] += 1
    if query.employee is None:
        for e in data["events"]:
            dep = e.channel.department_id
            if e.error.startswith("honeypot") and take(e.received_at, dep, None):
                key = {"source": e.channel.name, "department": dep}.get(g)
                accs[key]["spam"] += 1
    for w in data["callbacks"]:
        if not take(w.created_at, w.department_id, w.assignee_id):
            continue
        key = {"department": w.department_id, "employee": w.assignee_id}.get(g)
        a = accs[key]
        a["callbacks"] += 1
        a["callbacks_late"] += (w.closed_at or NOW) > w.due_at
        if w.closed_at:
            a["closed"] += 1
            a["callback"] += (w.closed_at - w.created_at).total_seconds()

    def figures(a):
        return {
            "deals": a["deals"], "processed": a["processed"], "processing_seconds_avg": _avg(a["processing"],
                                                                                           a["processed"]),
            "paused": a["paused"], "pause_seconds_avg": _avg(a["pause"], a["pauses"]),
            "lost_in_pause": a["lost_in_pause"], "lost_in_pause_share": _avg(a["lost_in_pause"] * 100, a["paused"]),
            "leads": a["leads"], "leads_converted": a["converted"],
            "conversion_share": _avg(a["converted"] * 100, a["leads"]), "leads_late": a["late"],
            "requests": a["requests"], "unanswered": a["unanswered"],
            "unanswered_share": _avg(a["unanswered"] * 100, a["requests"]), "left_quickly": a["left_quickly"],
            "offline": a["offline"], "spam": a["spam"], "callbacks": a["callbacks"],
            "callbacks_late": a["callbacks_late"], "callback_seconds_avg": _avg(a["callback"], a["closed"]),
        }

    total = defaultdict(float)
    for a in accs.values():
        for k, v in a.items():
            total[k] += v
    return {k: figures(a) for k, a in accs.items()}, figures(total)


def _strip(rows):
    return {r["key"]: {k: v for k, v in r.items() if k not in ("key", "label")} for r in rows}


def test_random_reports_equal_the_plain_reading(db):
    rnd = random.Random(16)
    company = _company(rnd)
    data = {
        "stages": list(Stage.objects.all()), "deals": list(Deal.objects.all()),
        "changes": defaultdict(list), "leads": list(Lead.objects.all()),
        "deal_leads": set(Deal.objects.exclude(lead=None).values_list("lead_id", flat=True)),
        "late_leads": set(Deadline.objects.filter(status="missed").values_list("lead_id", flat=True)),
        "conversations": list(Conversation.objects.select_related("operator", "channel")),
        "messages": defaultdict(list), "events": list(InboundEvent.objects.select_related("channel")),
        "callbacks": list(WorkItem.objects.filter(kind="callback")),
    }
    for c in DealStageChange.objects.order_by("deal_id", "at", "id"):
        data["changes"][c.deal_id].append(c)
    for m in Message.objects.all():
        data["messages"][m.conversation_id].append(m)
    for _ in range(80):
        # when the settings and a random report are chosen
        conf = AnalyticsSettings.objects.update_or_create(pk=1, defaults={
            "unanswered_min_stay_seconds": rnd.choice([0, 30, 60, 3600]),
            "unanswered_counts_offline": rnd.random() < 0.5})[0]
        start = START + timedelta(days=rnd.randrange(-5, SPAN_DAYS))
        period = Period(start, start + timedelta(days=rnd.randrange(0, 40)))
        user = rnd.choice(company["viewers"])
        query = ProcessQuery(period, group_by=rnd.choice(["source", "department", "employee", "pipeline"]),
                             compare=rnd.choice(["", "previous", "year"]))
        if user.is_admin and rnd.random() < 0.3:
            query = ProcessQuery(**{**query.__dict__, "department": rnd.choice(company["departments"]).pk})
        if user.is_admin and rnd.random() < 0.3:
            query = ProcessQuery(**{**query.__dict__, "employee": rnd.choice(company["people"]).pk})
        report = process_report(user=user, query=query, now=NOW)
        # then it equals the plain reading, row by row and in total, and its comparison too
        for got, p in [(report, period)] + ([(report["previous"], period.compared(query.compare))]
                                            if query.compare else []):
            want_rows, want_totals = expected(data, user=user, query=query, period=p, conf=conf)
            context = (query, user.username, p)
            assert _strip(got["rows"]) == want_rows, context
            assert got["totals"] == want_totals, context
