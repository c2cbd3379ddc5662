"""What a robot's run does: one function per action, and the escalations of a missed deadline.

Each runs inside the run's transaction (okno.robots.drains.robot_run_execute): its writes (an
outbox row, a push, a work item, a move) commit together with the run marked done, or not at
all. Nothing here talks to the network: e-mails, SMS and webhooks are outbox rows with the
run's idempotency key, sent by the outbox's drain, so a run repeated after a lost lease sends once.

A function returns a short result for the deal's robot log; it raises `RunRefused` for what
no retry will fix (the loop guard, a deleted stage) and anything else for what a retry might.
"""

from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from okno.deals.models import Deal, DealStageChange, Lead, Stage
from okno.people.models import Department, User
from okno.robots.models import Deadline, RegisterEntry, Robot, RobotRun

# A deal moved by robots this many times within LOOP_MINUTES stops being moved by them: two
# robots sending it back and forth would otherwise move it every few seconds for ever.
LOOP_MOVES = getattr(settings, "OKNO_ROBOT_LOOP_MOVES", 10)
LOOP_MINUTES = getattr(settings, "OKNO_ROBOT_LOOP_MINUTES", 10)
PUSH_KIND = "robot"


class RunRefused(Exception):
    """A run that must not be retried by itself: logged as failed, waits for a person."""


def _key(run: RobotRun, suffix: str = "") -> str:
    return f"robotrun-{run.pk}{suffix}"


def _deal_url(deal: Deal) -> str:
    try:
        return settings.SITE_URL.rstrip("/") + reverse("deals:deal", args=[deal.pk])
    except Exception:  # the deal page's name may differ; the id is still said in the text
        return settings.SITE_URL.rstrip("/") + f"/deals/{deal.pk}/"


def _notify(users: list[User], *, run: RobotRun, message: Callable[[], tuple[str, str]], url: str) -> str:
    """In the app, live (the user's open pages), and by e-mail through the outbox; each person
    in their own language (`message()` is called under it and returns subject and text)."""
    from okno.outbox.services import outbox_email
    from okno.push.services import push_send

    users = [u for u in users if u is not None and u.is_active]
    if not users:
        return "nobody to notify"
    for u in users:
        with override(u.language or settings.LANGUAGE_CODE):
            subject, text = message()
        push_send(user_ids=[u.pk], kind=PUSH_KIND, key=_key(run), payload={"title": subject, "text": text, "url": url})
        if u.email:
            outbox_email(to=u.email, subject=subject, body=f"{text}\n\n{url}", key=_key(run, f"-u{u.pk}"),
                         deal_id=run.deal_id)
    return "notified " + ", ".join(u.get_username() for u in users)


def department_heads(department: Department | None) -> list[User]:
    """The heads of the department, else of the nearest parent that has one."""
    seen = 0
    while department is not None and seen < 20:
        heads = list(User.objects.filter(department=department, role=User.Role.HEAD, is_active=True))
        if heads:
            return heads
        department, seen = department.parent, seen + 1
    return []


def _pick(params: dict) -> User | None:
    """A person by id, or the next in line of a department (round robin, as leads are routed)."""
    from okno.deals.services import _round_robin

    if params.get("department_id"):
        user = _round_robin(params["department_id"])
        if user is None:
            raise RunRefused("nobody of the department is at work to take it")
        return user
    user = User.objects.filter(pk=params.get("user_id") or 0, is_active=True).first()
    if user is None:
        raise RunRefused("the person to assign is gone or inactive")
    return user


def _set_responsible(deal: Deal, user: User) -> str:
    from okno.deals.deal_services import DealData, deal_update

    deal_update(actor=None, deal=deal, data=DealData(responsible=user, given={"responsible_id"}), via="robot")
    return f"responsible: {user.get_username()}"


def loop_guard(deal: Deal) -> None:
    since = timezone.now() - timedelta(minutes=LOOP_MINUTES)
    moves = DealStageChange.objects.filter(deal=deal, via="robot", at__gte=since).count()
    if moves >= LOOP_MOVES:
        raise RunRefused(f"loop stopped: robots moved this deal {moves} times within {LOOP_MINUTES} minutes; "
                         "robots will not move it again until a person does or the time passes")


def _move(deal: Deal, stage_id: int) -> str:
    from okno.deals.pipeline_services import deal_move_to_stage

    stage = Stage.objects.filter(pk=stage_id, pipeline_id=deal.pipeline_id).first()
    if stage is None:
        raise RunRefused("the stage to move to is gone")
    if stage.pk == deal.stage_id:
        return "already in the stage"
    loop_guard(deal)
    deal_move_to_stage(deal=deal, stage=stage, actor=None, via="robot")
    return f"moved to {stage.name}"


def _contact_email(deal: Deal) -> str:
    row = deal.contact.emails.order_by("id").first() if deal.contact_id else None
    if row is None:
        raise RunRefused("the customer has no e-mail address")
    return row.email


def _contact_phone(deal: Deal) -> str:
    row = deal.contact.phones.order_by("id").first() if deal.contact_id else None
    if row is None:
        raise RunRefused("the customer has no phone number")
    return row.e164


def _render(deal: Deal, template_id: int):
    from okno.outbox.models import MessageTemplate
    from okno.outbox.templating import template_context, template_render

    template = MessageTemplate.objects.filter(pk=template_id).first()
    if template is None:
        raise RunRefused("the template is gone")
    context = template_context(deal=deal, contact=deal.contact, company=deal.company)
    return template_render(template=template, context=context)


# ---- actions on a deal ---------------------------------------------------------------------

def _notify_responsible(run: RobotRun, robot: Robot, deal: Deal) -> str:
    def message() -> tuple[str, str]:
        text = robot.action_params.get("text") or _("Deal “%(title)s” is at the stage “%(stage)s”") % {
            "title": deal.title, "stage": deal.stage.name}
        return robot.name or deal.title, text

    return _notify([deal.responsible] if deal.responsible_id else [], run=run, message=message, url=_deal_url(deal))


def _email_customer(run: RobotRun, robot: Robot, deal: Deal) -> str:
    from okno.outbox.services import outbox_email

    to = _contact_email(deal)
    subject, body = _render(deal, robot.action_params["template_id"])
    outbox_email(to=to, subject=subject, body=body, key=_key(run), contact_id=deal.contact_id, deal_id=deal.pk)
    return f"e-mail queued to {to}"


def _sms_customer(run: RobotRun, robot: Robot, deal: Deal) -> str:
    from okno.outbox.services import outbox_sms

    to = _contact_phone(deal)
    _subject, body = _render(deal, robot.action_params["template_id"])
    outbox_sms(to=to, text=body, key=_key(run), contact_id=deal.contact_id, deal_id=deal.pk)
    return f"SMS queued to {to}"


def _create_work_item(run: RobotRun, robot: Robot, deal: Deal) -> str:
    from okno.robots.schedule import calendar_for_pipeline, due_after
    from okno.work.models import WorkItem

    p = robot.action_params
    assignee = deal.responsible if p.get("assignee", "responsible") == "responsible" else \
        User.objects.filter(pk=p["assignee"], is_active=True).first()
    due = due_after(calendar_for_pipeline(deal.pipeline), timezone.now(), p.get("due") or "PT1H",
                    working=p.get("time", "working") == Robot.Time.WORKING)
    item = WorkItem.objects.create(kind=WorkItem.Kind.TASK, title=p.get("title", "")[:300], deal=deal,
                                   contact_id=deal.contact_id, assignee=assignee,
                                   department_id=(assignee.department_id if assignee else None) or deal.department_id,
                                   due_at=due)
    return f"work item #{item.pk} due {due.isoformat()}"


def _change_responsible(run: RobotRun, robot: Robot, deal: Deal) -> str:
    return _set_responsible(deal, _pick(robot.action_params))


def _move_to_stage(run: RobotRun, robot: Robot, deal: Deal) -> str:
    return _move(deal, robot.action_params["stage_id"])


def _webhook_payload(run: RobotRun, robot: Robot, *, deal: Deal | None = None, lead: Lead | None = None) -> dict:
    data = {"robot_id": robot.pk, "run_id": run.pk, "at": timezone.now().isoformat()}
    if deal is not None:
        data.update(deal_id=deal.pk, pipeline_id=deal.pipeline_id, stage_id=deal.stage_id, title=deal.title,
                    amount=str(deal.amount), currency=deal.currency, contact_id=deal.contact_id,
                    responsible_id=deal.responsible_id, external_id=deal.external_id)
    if lead is not None:
        data.update(lead_id=lead.pk, contact_id=lead.contact_id, assignee_id=lead.assignee_id)
    return data


def _webhook(run: RobotRun, robot: Robot, deal: Deal | None = None, lead: Lead | None = None) -> str:
    from okno.robots.outbound import robot_webhook_queue

    data = _webhook_payload(run, robot, deal=deal, lead=lead)
    robot_webhook_queue(robot=robot, key=_key(run), data=data, deal_id=deal.pk if deal else None,
                        contact_id=(deal.contact_id if deal else lead.contact_id if lead else None))
    return "webhook queued"


def _register(run: RobotRun, robot: Robot, deal: Deal) -> str:
    name = robot.action_params["register_name"]
    snapshot = {"deal_id": deal.pk, "title": deal.title, "amount": str(deal.amount), "currency": deal.currency,
                "stage": deal.stage.name, "responsible": deal.responsible.get_username() if deal.responsible_id else "",
                "contact_id": deal.contact_id, "external_id": deal.external_id, "custom": deal.custom}
    _entry, created = RegisterEntry.objects.get_or_create(name=name, deal=deal, defaults={"snapshot": snapshot})
    return f"recorded in {name}" if created else f"already in {name}"


DEAL_ACTIONS = {
    Robot.Action.NOTIFY_RESPONSIBLE: _notify_responsible,
    Robot.Action.EMAIL_CUSTOMER: _email_customer,
    Robot.Action.SMS_CUSTOMER: _sms_customer,
    Robot.Action.CREATE_WORK_ITEM: _create_work_item,
    Robot.Action.CHANGE_RESPONSIBLE: _change_responsible,
    Robot.Action.MOVE_TO_STAGE: _move_to_stage,
    Robot.Action.WEBHOOK: _webhook,
    Robot.Action.REGISTER: _register,
}


# ---- a lead's actions ----------------------------------------------------------------------

def _lead_url(lead: Lead) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("deals:leads")


def _set_lead_assignee(lead: Lead, user: User) -> str:
    fields = {"assignee": user, "routed_by": "robot", "updated_at": timezone.now(), "read_at": None}
    if user.department_id:
        fields["department_id"] = user.department_id
    from okno.deals.lead_services import lead_updated_publish

    Lead.objects.filter(pk=lead.pk, status__in=Lead.OPEN).update(**fields)
    lead_updated_publish(leads=Lead.objects.filter(pk=lead.pk))
    return f"assignee: {user.get_username()}"


def lead_action(run: RobotRun, robot: Robot, lead: Lead) -> str:
    if lead.status not in Lead.OPEN:
        return "the lead is closed"
    if robot.action == Robot.Action.NOTIFY_RESPONSIBLE:
        def message() -> tuple[str, str]:
            text = robot.action_params.get("text") or _("New lead #%(id)s") % {"id": lead.pk}
            return robot.name or text, text

        return _notify([lead.assignee] if lead.assignee_id else department_heads(lead.department), run=run,
                       message=message, url=_lead_url(lead))
    if robot.action == Robot.Action.CHANGE_RESPONSIBLE:
        return _set_lead_assignee(lead, _pick(robot.action_params))
    if robot.action == Robot.Action.WEBHOOK:
        return _webhook(run, robot, lead=lead)
    raise RunRefused(f"{robot.action} does not apply to a lead")


# ---- escalations of a missed deadline -----------------------------------------------------

def escalate(run: RobotRun, robot: Robot, *, deal: Deal | None, lead: Lead | None) -> str:
    """The missed deadline's escalation: notify the head, reassign, or move (deals only)."""
    deadline_id = int(run.entry.split(":", 1)[1])
    action, params = robot.escalation, robot.escalation_params or {}
    if deal is not None:
        department = deal.department or (deal.responsible.department if deal.responsible_id else None) \
            or deal.pipeline.department
        def message() -> tuple[str, str]:
            return (_("Deadline missed: %(title)s") % {"title": deal.title},
                    _("Deal “%(title)s” was not moved on from “%(stage)s” in time") % {
                        "title": deal.title, "stage": deal.stage.name})

        url = _deal_url(deal)
    else:
        department = lead.department
        def message() -> tuple[str, str]:
            text = _("Lead #%(id)s was not taken in time") % {"id": lead.pk}
            return text, text

        url = _lead_url(lead)
    if action == Robot.Escalation.NOTIFY_HEAD:
        result = _notify(department_heads(department), run=run, message=message, url=url)
    elif action == Robot.Escalation.REASSIGN:
        in_place = deal is None or deal.stage_id == run.stage_id
        if not in_place:
            result = "the deal left the stage: not reassigned"
        elif deal is not None:
            result = _set_responsible(deal, _pick(params))
        else:
            result = _set_lead_assignee(lead, _pick(params)) if lead.status in Lead.OPEN else "the lead is closed"
    elif action == Robot.Escalation.MOVE and deal is not None:
        result = _move(deal, params["stage_id"]) if deal.stage_id == run.stage_id else \
            "the deal left the stage: not moved"
    else:
        result = "no escalation"
    Deadline.objects.filter(pk=deadline_id, escalated_at__isnull=True).update(escalated_at=timezone.now())
    return result
