"""The chats report equals a plain Python reading of the raw rows (conversations and messages),
for 120 random (period, grouping, comparison, filters, viewer) combinations; and each drill-down
lists exactly as many chats as the figure it came from."""

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from okno.analytics.chats_report import LISTABLE, ChatsQuery, Period, chats_drill, chats_report
from okno.analytics.tests.chats_factories import jivo_channel, make_chat
from okno.analytics.tests.factories import local
from okno.contacts.tests.factories import make_contact
from okno.inbox.models import Conversation, Message
from okno.people.models import User
from okno.people.tests.factories import DepartmentFactory, UserFactory

START = date(2026, 9, 1)
SPAN_DAYS = 60
RATINGS = ["", "", "", "positive", "negative", "5", "3", "1"]


def _company(rnd: random.Random):
    sales = DepartmentFactory(name="Продажи")
    desk = DepartmentFactory(name="Сектор", parent=sales)
    support = DepartmentFactory(name="Поддержка")
    people = [UserFactory(department=d) for d in (sales, desk, desk, support)]
    head = UserFactory(role=User.Role.HEAD, department=sales)
    admin = UserFactory(role=User.Role.ADMIN, department=None)
    channels = [jivo_channel(department=sales, name="Магазин"), jivo_channel(department=support, name="Помощь"),
                jivo_channel(name="Без отдела")]
    customer = make_contact(first_name="Посетитель")
    for _ in range(150):
        day = START + timedelta(days=rnd.randrange(SPAN_DAYS))
        at = local(day.isoformat(), rnd.randrange(24), rnd.randrange(60))
        if rnd.random() < 0.05:
            at = local(day.isoformat(), 0, 0, 0)
        replies = tuple(rnd.choice([3, 20, 45, 300]) for _ in range(rnd.choice([0, 0, 1, 1, 2, 3])))
        make_chat(channel=rnd.choice(channels), at=at, operator=rnd.choice([*people, None]), replies=replies,
                  visitor_lines=rnd.choice([0, 1, 2]), accepted=rnd.random() < 0.7, rating=rnd.choice(RATINGS),
                  offline=not replies and rnd.random() < 0.4, spam=rnd.random() < 0.08,
                  finished_after=rnd.choice([None, 20, 600]), contact=customer)
    return {"viewers": [admin, head, people[1], people[3]], "people": people, "departments": [sales, desk, support],
            "channels": channels}


def _dep(c) -> int | None:
    if c.operator_id is not None and c.operator.department_id is not None:
        return c.operator.department_id
    return c.channel.department_id


def _visible(user, c) -> bool:
    if user.is_admin:
        return True
    if user.role == User.Role.HEAD:
        return _dep(c) in user.department.subtree_ids()
    return c.operator_id == user.pk


def _avg(total, n):
    return round(total / n, 1) if n else None


def expected(chats, msgs, *, user, query: ChatsQuery, period: Period):
    tz = ZoneInfo(settings.TIME_ZONE)
    lo = datetime.combine(period.start, time.min, tzinfo=tz)
    hi = datetime.combine(period.end + timedelta(days=1), time.min, tzinfo=tz)
    key_of = {"employee": lambda c: c.operator_id, "department": _dep, "channel": lambda c: c.channel_id,
              "day": lambda c: c.started_at.astimezone(tz).date().isoformat()}[query.group_by]
    groups = defaultdict(list)
    if query.group_by == "day":
        for i in range(period.days):
            groups[(period.start + timedelta(days=i)).isoformat()]
    for c in chats:
        if not lo <= c.started_at < hi or not _visible(user, c):
            continue
        if (query.channel is not None and c.channel_id != query.channel) \
                or (query.department is not None and _dep(c) != query.department) \
                or (query.employee is not None and c.operator_id != query.employee):
            continue
        groups[key_of(c)].append(c)

    def figures(cs):
        real = [c for c in cs if not c.spam]
        missed = [c for c in real if c.missed]
        offline = [c for c in missed if any(m.external_id.startswith("offline:") for m in msgs[c.pk])]
        accepted = [c for c in real if not c.missed and (c.accepted_at or c.first_reply_at
                                                          or any(m.direction == "out" for m in msgs[c.pk]))]
        firsts, waits = [], []
        for c in real:
            lines = sorted(msgs[c.pk], key=lambda m: (m.sent_at, m.pk))
            ins = [m for m in lines if m.direction == "in"]
            since = None
            mine = []
            for m in lines:
                if m.direction == "in" and since is None:
                    since = m.sent_at
                elif m.direction == "out" and since is not None:
                    mine.append((m.sent_at - since).total_seconds())
                    since = None
            waits += mine
            if ins and mine:
                firsts.append(mine[0])
            elif c.first_reply_at:
                firsts.append((c.first_reply_at - (ins[0].sent_at if ins else c.started_at)).total_seconds())
        rated = [c for c in real if c.rating]
        positive = [c for c in rated if c.rating in ("positive", "4", "5")]
        return {
            "chats": len(real), "accepted": len(accepted), "missed": len(missed), "missed_offline": len(offline),
            "missed_left": len(missed) - len(offline), "first_response_seconds_avg": _avg(sum(firsts), len(firsts)),
            "response_seconds_avg": _avg(sum(waits), len(waits)), "rated": len(rated),
            "rating_positive": len(positive), "rating_negative": sum(c.rating in ("negative", "1", "2") for c in rated),
            "rating_positive_share": _avg(len(positive) * 100, len(rated)), "spam": len(cs) - len(real),
        }

    everything = [c for cs in groups.values() for c in cs]
    return {k: figures(v) for k, v in groups.items()}, figures(everything)


def _strip(rows):
    return {r["key"]: {k: v for k, v in r.items() if k not in ("key", "label")} for r in rows}


def test_random_reports_equal_the_plain_reading_and_drill_downs_their_figures(db):
    # given 150 random chats over 60 days on three widgets
    rnd = random.Random(16)
    company = _company(rnd)
    chats = list(Conversation.objects.select_related("operator", "channel"))
    msgs = defaultdict(list)
    for m in Message.objects.all():
        msgs[m.conversation_id].append(m)
    for _ in range(120):
        # when a random report is asked
        start = START + timedelta(days=rnd.randrange(-5, SPAN_DAYS))
        period = Period(start, start + timedelta(days=rnd.randrange(0, 40)))
        user = rnd.choice(company["viewers"])
        query = ChatsQuery(period, group_by=rnd.choice(["employee", "department", "channel", "day"]),
                           compare=rnd.choice(["", "previous", "year"]))
        if rnd.random() < 0.2:
            query = ChatsQuery(**{**query.__dict__, "channel": rnd.choice(company["channels"]).pk})
        if user.is_admin and rnd.random() < 0.3:
            query = ChatsQuery(**{**query.__dict__, "department": rnd.choice(company["departments"]).pk})
        if user.is_admin and rnd.random() < 0.3:
            query = ChatsQuery(**{**query.__dict__, "employee": rnd.choice(company["people"]).pk})
        report = chats_report(user=user, query=query)
        # then it equals the plain reading, row by row and in total, and its comparison too
        for got, p in [(report, period)] + ([(report["previous"], period.compared(query.compare))]
                                            if query.compare else []):
            want_rows, want_totals = expected(chats, msgs, user=user, query=query, period=p)
            context = (query, user.username, p)
            assert _strip(got["rows"]) == want_rows, context
            assert got["totals"] == want_totals, context
        # and a drill-down from a random figure of a random row lists as many chats as it counts
        figure = rnd.choice(LISTABLE)
        row = rnd.choice(report["rows"]) if report["rows"] and rnd.random() < 0.7 else None
        key = "" if row is None else row["key"]
        want = report["totals"][figure] if row is None else row[figure]
        assert chats_drill(user=user, query=query, figure=figure, key=key).count() == want, (query, figure, key)
