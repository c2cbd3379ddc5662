"""The demo company's deals: three months of history in bulk, and today's through the real services.

- History (okno.demo.deal_history): most deals, told as stories over the past three months and
  written with bulk inserts, with their stage changes, deadlines, robot runs, registers, work
  items and timeline rows backdated.
- Today: a few hundred deals (at the default scale) through `deal_create`, `deal_update`,
  `deal_move_to_stage`, `lead_create`, `lead_convert` and `lead_lose`, so the robots' own
  subscribers open their deadlines and queue their runs; the runs due now are then executed
  by the robots' own drain (an SMS and an e-mail queued in the outbox, the register, work
  items; an order of a customer without a phone fails and waits on "Robot problems"). Their
  30-minute deadlines fall due while the demo runs, and the worker escalates them live.
"""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils import timezone

from okno.contacts.models import Contact, ContactEmail, ContactPhone
from okno.core.errors import FieldError
from okno.core.events import Event
from okno.deals.lead_services import lead_convert, lead_lose
from okno.deals.models import Deal
from okno.deals.pipeline_services import deal_create, deal_data_clean, deal_move_to_stage, deal_update
from okno.deals.services import lead_create
from okno.demo import deal_data as dd
from okno.demo.deal_history import Context, Customer, Plan, b2b_moves, cut_at, history_write, leads_write, store_moves
from okno.demo.process import Process, process_seed
from okno.outbox.models import DeliveryAttempt, OutboxMessage
from okno.outbox.services import webhook_body
from okno.people.models import User
from okno.robots.actions import department_heads
from okno.robots.drains import robot_runs_drain
from okno.robots.models import Robot, RobotRun
from okno.robots.schedule import calendar_for_pipeline, deadline_due
from okno.work.models import WorkItem

STORE_DEPARTMENTS = ("Розница", "Колл-центр", "Сервис")
B2B_DEPARTMENTS = ("Опт",)
DAYS = 90
# One deal per this many cards: 2,500 deals for the default 20,000 contacts.
CARDS_PER_DEAL = 8
B2B_SHARE = 0.2


@dataclass
class DealsReport:
    deals: int = 0
    store: int = 0
    b2b: int = 0
    overdue: int = 0
    leads: int = 0
    robots: int = 0
    through_services: int = 0
    showcase: str = ""  # a manager whose "My day" has overdue deals in it


def deals_seed(*, admin: User, contacts: int, seed: int | None, say) -> DealsReport:
    """Everything deals-related of the demo; called inside `demo_seed`'s transaction."""
    # Every deal draws from its own stream: what one story consumes (which depends on the day
    # the demo is seeded, through the calendar) does not shift the next one's customer or lines.
    base = random.Random(f"deals-{seed}" if seed is not None else None).getrandbits(64)
    now = timezone.now().replace(microsecond=0)
    process = process_seed(admin=admin)
    say(f"calendar, {len(process.robots) + 1} robots on 2 pipelines, templates")
    users = {u.pk: u for u in User.objects.all()}
    heads = {d: [u.username for u in department_heads(users[d_user].department)]
             for d, d_user in {u.department_id: u.pk for u in users.values() if u.department_id}.items()}
    retail_ids = [u.pk for u in users.values() if u.department and u.department.name == "Розница"
                  and u.role == User.Role.MANAGER]
    ctx = Context(process=process, cal=calendar_for_pipeline(process.store), now=now, users=users, heads=heads,
                  retail_ids=retail_ids)
    pools = _customers(users)
    total = contacts // CARDS_PER_DEAL
    if not total or not pools["store"]:
        return DealsReport(robots=len(process.robots) + 1)
    # Today's deals go through the services one by one (~50 ms each with their robots on SQLite).
    today = min(120, max(6, total // 20))
    plans = _plans(base, ctx, pools, total - today)
    rng = random.Random(f"{base}-lost")
    lost = [(rng.choice(pools["store"]), _moment(rng, now, ctx), dd.weighted(rng, dd.STORE_LOST))
            for _ in range(max(1, total // 8))]
    leads = leads_write(ctx, plans, lost, random.Random(f"{base}-leads"))
    history_write(ctx, plans)
    _backdate_setup(process, now)
    _webhook_history(process, plans)
    _a_waiting_run(process)
    say(f"{len(plans)} deals of the past {DAYS} days")
    fresh, fresh_leads = _today(random.Random(f"{base}-today"), process, pools, today)
    say(f"{len(fresh)} deals and {fresh_leads} leads through the services; running the robots due now")
    while robot_runs_drain():
        pass
    return DealsReport(
        deals=Deal.objects.count(), store=Deal.objects.filter(pipeline=process.store).count(),
        b2b=Deal.objects.filter(pipeline=process.b2b).count(), overdue=Deal.objects.filter(is_overdue=True).count(),
        leads=leads + fresh_leads, robots=len(process.robots) + 1, through_services=len(fresh),
        showcase=_showcase())


def _showcase() -> str:
    """The manager with the most overdue deals (then the most open work items)."""
    overdue = Counter(Deal.objects.filter(is_overdue=True, closed_at__isnull=True).values_list(
        "responsible__username", flat=True))
    work = Counter(WorkItem.objects.filter(status=WorkItem.Status.OPEN).values_list("assignee__username", flat=True))
    ranked = sorted((name for name in overdue if name), key=lambda name: (-overdue[name], -work[name], name))
    return ranked[0] if ranked else ""


def _customers(users: dict) -> dict[str, list[Customer]]:
    """Cards with a responsible of the store's or the B2B department, with the first phone and
    e-mail the robots would use; "nophone": store customers reachable by e-mail only."""
    phones, emails = {}, {}
    for cid, e164 in ContactPhone.objects.order_by("id").values_list("contact_id", "e164"):
        phones.setdefault(cid, e164)
    for cid, email in ContactEmail.objects.order_by("id").values_list("contact_id", "email"):
        emails.setdefault(cid, email)
    dept_of = {u.pk: (u.department.name if u.department else "") for u in users.values()}
    pools: dict[str, list[Customer]] = {"store": [], "b2b": [], "nophone": [], "unassigned": []}
    rows = Contact.objects.filter(status=Contact.Status.ACTIVE).order_by("id").values_list(
        "id", "responsible_id", "department_id", "company_id", "company__name", "first_name", "last_name",
        "middle_name")
    for cid, responsible_id, department_id, company_id, company_name, first, last, middle in rows:
        c = Customer(cid, responsible_id, department_id, company_id, company_name or "", phones.get(cid, ""),
                     emails.get(cid, ""), first_name=first, last_name=last, middle_name=middle)
        if responsible_id is None:
            pools["unassigned"].append(c)
            continue
        dept = dept_of.get(responsible_id, "")
        if dept in STORE_DEPARTMENTS:
            if c.phone and c.email:
                pools["store"].append(c)
            elif c.email:
                pools["nophone"].append(c)
        elif dept in B2B_DEPARTMENTS and c.company_id and c.email:
            pools["b2b"].append(c)
    return pools


def _moment(rng: random.Random, now: datetime, ctx: Context, *, days: int = DAYS) -> datetime:
    """A moment of the past `days` when a customer might write: 08:00-23:00 local time, any day."""
    day, minute = rng.randrange(days), rng.randrange(8 * 60, 23 * 60)
    local = timezone.localtime(now, ctx.cal.zone).date() - timedelta(days=day)
    at = datetime.combine(local, time(minute // 60, minute % 60), tzinfo=ctx.cal.zone)
    return at - timedelta(days=1) if at > now else at


def _plans(base: int, ctx: Context, pools: dict, count: int) -> list[Plan]:
    """The deals of the past DAYS as stories. A deal's content (customer, title, lines, source)
    comes from one stream and its path from another: the path depends on the calendar around
    "now", the content never does."""
    plans = []
    b2b_count = round(count * B2B_SHARE) if pools["b2b"] else 0
    for i in range(count):
        rng, path = random.Random(f"{base}-{i}"), random.Random(f"{base}-{i}-path")
        if i < b2b_count:
            customer = rng.choice(pools["b2b"])
            plan = Plan(pipeline="b2b", customer=customer, responsible_id=customer.responsible_id,
                        title=f"{customer.company_name}: {rng.choice(dd.B2B_SUBJECTS)}"[:300], lines=dd.b2b_lines(rng),
                        moves=[], source=dd.weighted(rng, dd.B2B_SOURCES), from_lead=rng.random() < 0.3)
            created = _moment(path, ctx.now - timedelta(hours=1), ctx)
            plan.moves = cut_at(b2b_moves(path, ctx, created), ctx.now)
        else:
            customer = rng.choice(pools["store"])
            number = f"ИМ-{10000 + i}"
            plan = Plan(pipeline="store", customer=customer, responsible_id=customer.responsible_id,
                        title=f"Заказ {number}", lines=dd.store_lines(rng), moves=[], external_id=number,
                        source=dd.weighted(rng, dd.STORE_SOURCES), from_lead=rng.random() < 0.35,
                        custom={"delivery_method": rng.choice(dd.DELIVERY_METHODS)})
            # From a stream of its own, so the other content of the demo stays as it was.
            plan.custom.update(_delivery_details(random.Random(f"{base}-{i}-delivery")))
            # One order in a hundred (at least one) of the last three days was never taken up: it
            # sits in Новый with its deadlines missed, overdue on the board.
            stuck = i - b2b_count < max(1, (count - b2b_count) // 100)
            created = _moment(path, ctx.now - timedelta(minutes=3), ctx, days=3 if stuck else DAYS)
            while stuck and deadline_due(ctx.robots["new_deadline"], created, ctx.cal) > ctx.now - timedelta(minutes=5):
                created -= timedelta(days=1)  # seeded on a Monday morning or after the holidays: missed already
            plan.moves = cut_at(store_moves(path, ctx, created, stuck=stuck), ctx.now)
            confirmed = next((m.at for m in plan.moves if m.stage == 2), None)
            if confirmed is not None:
                plan.custom["delivery_date"] = (timezone.localtime(confirmed).date()
                                                + timedelta(days=path.randint(1, 5))).isoformat()
        plans.append(plan)
    return plans


def _delivery_details(rng: random.Random) -> dict:
    """An order's delivery address and (sometimes) the buyer's comment, as a shop sends them."""
    details = {"delivery_address": dd.delivery_address(rng)}
    comment = rng.choice(dd.ORDER_COMMENTS)
    if comment:
        details["comment"] = comment
    return details


def _backdate_setup(process: Process, now: datetime) -> None:
    """The process existed before its history: pipelines and robots were set up DAYS + 10 days ago."""
    since = now - timedelta(days=DAYS + 10)
    Robot.objects.update(created_at=since, updated_at=since)
    type(process.store).objects.filter(pk__in=[process.store.pk, process.b2b.pk]).update(created_at=since)


def _webhook_history(process: Process, plans: list[Plan]) -> None:
    """The last deliveries the endpoint took before it was switched off: its log has something to show."""
    endpoint = process.endpoint
    plans = sorted(plans, key=lambda p: p.moves[0].at)[-60:]
    messages = []
    for plan in plans:
        deal, at = plan.deal, plan.moves[0].at
        data = {"deal_id": deal.pk, "pipeline_id": deal.pipeline_id, "stage_id": plan.deal.stage_id,
                "title": deal.title, "amount": str(deal.amount), "currency": deal.currency, "via": "api",
                "at": at.isoformat()}
        body = webhook_body(Event(name="deal.created", subject=None, data=data, at=at))
        messages.append(OutboxMessage(kind=OutboxMessage.Kind.WEBHOOK, key=f"msg_demo{deal.pk}", endpoint=endpoint,
                                      payload={"event": "deal.created", "body": body}, status="sent", attempts=1,
                                      run_after=at, created_at=at, sent_at=at + timedelta(seconds=1),
                                      deal_id=deal.pk))
    OutboxMessage.objects.bulk_create(messages)
    DeliveryAttempt.objects.bulk_create([
        DeliveryAttempt(message=m, endpoint=endpoint, attempt=1, ok=True, status_code=200,
                        duration_ms=40 + (m.deal_id * 37) % 160, at=m.sent_at) for m in messages])


def _a_waiting_run(process: Process) -> None:
    """One run that failed all its retries (the database was busy) and waits for a person's retry."""
    run = RobotRun.objects.filter(robot=process.robots["confirmed_register"], status=RobotRun.Status.DONE,
                                  deal__stage__kind="open").order_by("-id").first()
    if run is not None:
        RobotRun.objects.filter(pk=run.pk).update(
            status=RobotRun.Status.WAITING, attempts=6, result="",
            error="OperationalError: database is locked\n\n(the demo's example of a run that used up its retries)")
        run.deal.register_entries.filter(name=run.robot.action_params["register_name"]).delete()


# ---- today, through the services -------------------------------------------------------------

def _lines_raw(lines: list[dict]) -> list[dict]:
    return [{"name": x["name"], "sku": x["sku"], "quantity": x["quantity"], "price": x["price"]} for x in lines]


def _today(rng: random.Random, process: Process, pools: dict, count: int) -> tuple[list[Deal], int]:
    users = {u.pk: u for u in User.objects.filter(is_active=True)}
    stages, b2b = process.stages["store"], process.stages["b2b"]
    deals = []
    store_n = max(1, round(count * 0.8))
    no_phone = pools["nophone"][:2]
    for i in range(store_n):
        customer = no_phone[i] if i < len(no_phone) else rng.choice(pools["store"])
        number = f"ИМ-{20000 + i}"
        data = deal_data_clean({
            "title": f"Заказ {number}", "contact_id": customer.id, "responsible_id": customer.responsible_id,
            "source": dd.weighted(rng, dd.STORE_SOURCES), "external_id": number,
            "lines": _lines_raw(dd.store_lines(rng)), "custom": {"delivery_method": rng.choice(dd.DELIVERY_METHODS),
                                                                 **_delivery_details(random.Random(number))},
        }, pipeline=process.store)
        deal = deal_create(actor=None, pipeline=process.store, data=data, via="api")
        manager = users.get(customer.responsible_id)
        fate = rng.random() if i >= len(no_phone) else 0.0
        if 0.2 <= fate < 0.75 or fate >= 0.93:
            deal = _confirm(rng, deal, process, manager, try_first=i == len(no_phone))
            if fate >= 0.93:
                deal = deal_move_to_stage(deal=deal, stage=stages[3], actor=manager)
        elif 0.75 <= fate < 0.85:
            deal = deal_move_to_stage(deal=deal, stage=stages[1], actor=manager)
        elif fate >= 0.85:
            deal = deal_move_to_stage(deal=deal, stage=stages[4], actor=manager,
                                      reason=dd.weighted(rng, dd.STORE_LOST))
        deals.append(deal)
    for _ in range(count - store_n if pools["b2b"] else 0):
        customer = rng.choice(pools["b2b"])
        manager = users.get(customer.responsible_id)
        lines = dd.b2b_lines(rng)
        data = deal_data_clean({
            "title": f"{customer.company_name}: {rng.choice(dd.B2B_SUBJECTS)}"[:300], "contact_id": customer.id,
            "responsible_id": customer.responsible_id, "source": dd.weighted(rng, dd.B2B_SOURCES),
            "lines": _lines_raw(lines)}, pipeline=process.b2b, actor=manager)
        deal = deal_create(actor=manager, pipeline=process.b2b, data=data)
        if rng.random() < 0.4:
            deal = deal_move_to_stage(deal=deal, stage=b2b[1], actor=manager)
        deals.append(deal)
    converted, leads = _today_leads(rng, process, pools, max(3, count // 4), users)
    return deals + converted, leads


def _confirm(rng: random.Random, deal: Deal, process: Process, manager: User | None, *, try_first: bool) -> Deal:
    """Подтверждён needs a delivery date: the first order is tried without one (refused, naming
    the field, as a hurried manager would be), then every order gets its date and moves."""
    confirmed = process.stages["store"][2]
    if try_first:
        try:
            deal_move_to_stage(deal=deal, stage=confirmed, actor=manager)
        except FieldError as exc:
            if "custom.delivery_date" not in exc.by_field:
                raise
    date = (timezone.localdate() + timedelta(days=rng.randint(1, 4))).isoformat()
    deal = deal_update(actor=manager, deal=deal, data=deal_data_clean(
        {"custom": {"delivery_date": date}}, pipeline=process.store, partial=True))
    return deal_move_to_stage(deal=deal, stage=confirmed, actor=manager)


def _today_leads(rng: random.Random, process: Process, pools: dict, count: int, users: dict
                 ) -> tuple[list[Deal], int]:
    """New leads this morning: some converted to orders, some lost with a reason, the rest waiting
    (two of them unassigned, in the queue); their "taken within 15 minutes" deadlines run live."""
    customers = rng.sample(pools["store"], min(count, len(pools["store"]))) + pools["unassigned"][:2]
    deals = []
    for i, customer in enumerate(customers):
        lead = lead_create(contact=Contact.objects.get(pk=customer.id), title="Заявка с сайта",
                           source=dd.weighted(rng, dd.STORE_SOURCES),
                           utm={"utm_source": "yandex", "utm_medium": "cpc"} if i % 3 == 0 else None)
        manager = users.get(lead.assignee_id)
        fate = rng.random() if manager is not None else 1.0
        if fate < 0.4:
            deals.append(lead_convert(actor=manager, lead=lead, pipeline=process.store, data={
                "title": f"Заказ ИМ-{30000 + i}", "external_id": f"ИМ-{30000 + i}",
                "lines": _lines_raw(dd.store_lines(rng))}))
        elif fate < 0.65:
            lead_lose(actor=manager, lead=lead, reason=dd.weighted(rng, dd.STORE_LOST))
    return deals, len(customers)
