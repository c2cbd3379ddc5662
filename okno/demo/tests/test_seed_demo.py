import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Min
from django.utils import timezone
from rapidfuzz.distance import OSA

from okno.contacts.models import Contact, ContactEmail, ContactMatchKey, ContactPhone, CustomField
from okno.contacts.services import contact_refresh_derived
from okno.core.models import Calendar
from okno.core.phones import normalize_phone
from okno.core.text import fold
from okno.deals.models import Deal, DealStageChange, Lead, LostReason, Pipeline, Stage
from okno.demo import company as demo
from okno.demo.data import translit
from okno.demo.deal_history import Context
from okno.demo.deals import _customers, _plans
from okno.demo.process import B2B, STORE, Process
from okno.demo.stores import CONNECTION_NAME as STORE_CONNECTION
from okno.outbox.models import MessageTemplate, OutboxMessage, SmsProvider, WebhookEndpoint
from okno.people.models import Department, User
from okno.robots.drains import deadlines_drain, robot_runs_drain
from okno.robots.models import Deadline, RegisterEntry, Robot, RobotRun
from okno.robots.schedule import calendar_for_pipeline, stage_entry
from okno.timeline.models import Activity
from okno.work.models import WorkItem

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def seeded(db):
    return demo.demo_seed(contacts=400, seed=11)


def test_seed_builds_the_company_tree_with_heads_managers_and_operators(seeded):
    # then
    sales = Department.objects.get(name="Продажи")
    assert set(Department.objects.filter(parent=sales).values_list("name", flat=True)) == {"Опт", "Розница"}
    for dept in Department.objects.all():
        assert dept.members.filter(role=User.Role.HEAD).count() == 1
    assert User.objects.filter(department__name="Колл-центр", role=User.Role.OPERATOR).count() >= 10
    assert 55 <= User.objects.count() == seeded.users <= 65
    assert demo.demo_admin_password_works()
    assert User.objects.get(username="admin").is_admin
    assert User.objects.get(username=seeded.samples[1].username).check_password(demo.DEMO_PASSWORD)


def test_seeded_phones_are_normalised_from_many_real_formats(seeded):
    # when
    phones = list(ContactPhone.objects.all())

    # then every stored number is what the raw text normalises to
    for phone in phones:
        parsed = normalize_phone(phone.raw)
        assert (phone.e164, phone.extension) == (parsed.e164, parsed.extension), phone.raw
    shapes = {re.sub(r"\d", "9", p.raw) for p in phones if not p.extension}
    assert len(shapes) >= 8
    assert any(p.extension and "доб" in p.raw for p in phones)
    assert {p.e164[:4] for p in phones} & {"+375", "+380", "+998", "+770", "+774", "+777"}


def test_seeded_cards_are_derived_as_contact_create_derives_them(seeded):
    # given cards with a company, e-mails and notes
    sample = list(Contact.objects.filter(company__isnull=False).order_by("?")[:20])
    sample += list(Contact.objects.filter(emails__isnull=False, company__isnull=True).distinct()[:10])
    before = {c.pk: (c.search_text, sorted(c.match_keys.values_list("key", flat=True))) for c in sample}

    # when the service recomputes them
    for contact in sample:
        contact_refresh_derived(contact)

    # then nothing changes
    after = {
        c.pk: (c.search_text, sorted(c.match_keys.values_list("key", flat=True)))
        for c in Contact.objects.filter(pk__in=before)
    }
    assert after == before
    assert all(text for text, _keys in before.values())
    assert not Contact.objects.filter(search_text="").exists()
    # (the store's orders bring a few new buyers of their own, told by their source)
    assert Contact.objects.filter(dedup_dirty=True).exclude(source=STORE_CONNECTION).count() == 400
    assert Activity.objects.filter(kind=Activity.Kind.NOTE).count() == seeded.notes > 0
    assert CustomField.objects.filter(key__in=["budget", "birthday", "segment"]).count() == 3
    assert Contact.objects.filter(custom__has_key="budget").exists()


def test_the_base_grew_over_months_not_in_one_second(seeded):
    # then
    dates = Contact.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert (dates["last"] - dates["first"]).days > 300
    contact = Contact.objects.order_by("created_at").first()
    assert contact.updated_at == contact.created_at
    assert contact.history.get(field="created").at == contact.created_at
    note = Activity.objects.filter(kind=Activity.Kind.NOTE).select_related("contact").first()
    assert note.occurred_at > note.contact.created_at
    assert note.detail.body == note.summary


def test_cards_belong_to_managers_of_several_departments(seeded):
    # then
    per_department = Contact.objects.exclude(department=None).values("department").distinct().count()
    assert per_department >= 5
    assert Contact.objects.filter(responsible__role=User.Role.HEAD).count() == 0
    head = User.objects.get(role=User.Role.HEAD, department__name="Опт")
    assert Contact.objects.filter(department=head.department).exists()


def _phones(contact_id: int) -> set[str]:
    return set(ContactPhone.objects.filter(contact_id=contact_id, extension="").values_list("e164", flat=True))


def _emails(contact_id: int) -> set[str]:
    return set(ContactEmail.objects.filter(contact_id=contact_id).values_list("email", flat=True))


def test_about_three_percent_are_duplicates_a_person_would_recognise(seeded):
    # then
    assert len(seeded.duplicates) == 12  # 3% of 400
    kinds = {kind for _a, _b, kind in seeded.duplicates}
    assert len(kinds) >= 4
    for original_id, dup_id, kind in seeded.duplicates:
        original, dup = Contact.objects.get(pk=original_id), Contact.objects.get(pk=dup_id)
        shares = _phones(original_id) & _phones(dup_id) or _emails(original_id) & _emails(dup_id)
        if kind == "name_only":
            assert fold(dup.first_name) == fold(original.first_name)
            assert OSA.distance(fold(dup.last_name), fold(original.last_name)) <= 1
        elif kind == "latin":
            assert dup.last_name == translit(original.last_name)
        else:
            assert shares, (kind, original.full_name, dup.full_name)
        if kind == "phone_format":
            raw = {p.e164: p.raw for p in original.phones.all()}
            assert any(raw.get(p.e164) not in (None, p.raw) for p in dup.phones.all())
        if kind == "surname_typo":
            assert OSA.distance(dup.last_name, original.last_name) == 1
        if kind == "swap":
            assert (dup.first_name, dup.last_name) == (original.last_name, original.first_name)


def test_a_second_seed_adds_nothing(seeded):
    # given
    counts = (User.objects.count(), Contact.objects.count(), ContactMatchKey.objects.count())

    # when
    again = demo.demo_seed(contacts=400, seed=11)

    # then
    assert not again.seeded
    assert (User.objects.count(), Contact.objects.count(), ContactMatchKey.objects.count()) == counts


def test_seed_demo_command_prints_the_login_both_times(db):
    # when
    first, second = StringIO(), StringIO()
    call_command("seed_demo", contacts=30, seed=3, stdout=first)
    call_command("seed_demo", contacts=30, stdout=second)

    # then
    assert "30 contacts" in first.getvalue()
    assert "as admin / okno-demo" in first.getvalue()
    assert "not seeded again" in second.getvalue()
    assert "as admin / okno-demo" in second.getvalue()
    assert Contact.objects.exclude(source=STORE_CONNECTION).count() == 30


def test_a_non_demo_database_is_left_alone_and_no_demo_login_is_promised(db):
    # given someone's own administrator
    User.objects.create_user(username="boss", password="correct horse battery")

    # when
    out = StringIO()
    call_command("seed_demo", contacts=30, stdout=out)

    # then
    assert Contact.objects.count() == 0
    assert "createsuperuser" in out.getvalue()


# -- deals, robots, templates --------------------------------------------------------------------

def test_the_company_calendar_reasons_templates_and_switched_off_outlets(seeded):
    # then
    calendar = Calendar.objects.get(is_default=True)
    assert (calendar.country, calendar.timezone) == ("RU", "Europe/Moscow")
    assert calendar.hours == {d: "09:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}
    assert {"Дорого", "Выбрали конкурента", "Не отвечает", "Нет в наличии"} <= set(
        LostReason.objects.values_list("name", flat=True))
    sms = MessageTemplate.objects.get(channel="sms")
    assert "{{ deal.external_id }}" in sms.body
    assert MessageTemplate.objects.filter(channel="email").count() >= 2
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.url.startswith("http://127.0.0.1") and endpoint.allow_private_network
    assert not endpoint.is_active and endpoint.disabled_reason
    assert endpoint.messages.filter(status="sent").exists()
    assert not SmsProvider.objects.filter(is_active=True).exists()


def test_two_pipelines_carry_the_issues_robots(seeded):
    # given
    store = Pipeline.objects.get(name="Заказы интернет-магазина")
    b2b = Pipeline.objects.get(name="B2B продажи")

    # then
    assert [(s.name, s.kind) for s in store.stages.order_by("position")] == [
        ("Новый", "open"), ("Пауза", "paused"), ("Подтверждён", "open"), ("Выполнен", "won"), ("Отменён", "lost")]
    assert [s.kind for s in b2b.stages.order_by("position")] == ["open", "open", "open", "won", "lost"]
    new, pause, confirmed = list(store.stages.order_by("position"))[:3]
    assert confirmed.required_fields == ["delivery_date"]
    level1 = Robot.objects.get(stage=new, kind="deadline", parent=None)
    assert (level1.within, level1.time, level1.escalation) == ("PT30M", "working", "notify_head")
    level2 = Robot.objects.get(parent=level1)
    assert level2.escalation == "reassign"
    same_day = Robot.objects.get(stage=pause, kind="deadline")
    assert (same_day.until, same_day.escalation, same_day.escalation_params) == (
        "end_of_working_day", "move", {"stage_id": new.pk})
    sms = Robot.objects.get(stage=new, action="sms_customer")
    assert sms.trigger == "enter" and MessageTemplate.objects.get(pk=sms.action_params["template_id"]).channel == "sms"
    assert Robot.objects.get(stage=confirmed, action="register").action_params == {"register_name": "confirmed_orders"}
    follow_up = Robot.objects.get(pipeline=b2b, trigger="after", action="create_work_item")
    assert follow_up.trigger_params == {"after": "P2D", "time": "working"}
    assert Robot.objects.filter(for_leads=True, kind="deadline").exists()


def test_deals_spread_over_stages_and_three_months_with_line_items(seeded):
    # then one deal per eight cards (and today's leads converted), on most stages, over months
    # (the store connection's orders are counted apart: they came through the store's path)
    assert 400 // 8 <= Deal.objects.exclude(source=STORE_CONNECTION).count() == seeded.deals.deals <= 400 // 8 + 12
    store = Pipeline.objects.get(name="Заказы интернет-магазина")
    per_stage = dict(Deal.objects.filter(pipeline=store).values_list("stage__name").annotate(n=Count("id")))
    assert {"Новый", "Выполнен", "Отменён"} <= set(per_stage) and len(per_stage) >= 4
    assert Deal.objects.filter(pipeline__name="B2B продажи").values("stage").distinct().count() >= 2
    dates = Deal.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
    assert (dates["last"] - dates["first"]).days > 30
    for deal in Deal.objects.prefetch_related("lines"):
        lines = list(deal.lines.all())
        assert lines and deal.amount == sum(line.total for line in lines) > 0
        assert all(isinstance(line.price, Decimal) and line.sku for line in lines)
        if deal.source == STORE_CONNECTION:
            continue  # a shop's order arrives with no responsible: the shop names none
        assert deal.responsible.department.name in ("Розница", "Колл-центр", "Сервис", "Опт")
        assert deal.department_id == deal.responsible.department_id
    assert not Deal.objects.filter(stage__name="Подтверждён", custom__delivery_date=None).exists()
    assert not Deal.objects.filter(stage__kind="lost", lost_reason=None).exists()


def test_every_deal_has_its_backdated_stage_history_and_timeline(seeded):
    # then the first change comes from nowhere when the deal was made, the last is where it is
    for deal in Deal.objects.prefetch_related("stage_changes"):
        changes = list(deal.stage_changes.all())
        assert changes[0].from_stage_id is None and changes[0].at == deal.created_at
        assert changes[-1].to_stage_id == deal.stage_id and changes[-1].at == deal.stage_entered_at
        assert [c.at for c in changes] == sorted(c.at for c in changes)
    assert Activity.objects.filter(kind=Activity.Kind.DEAL).count() == DealStageChange.objects.count()
    assert DealStageChange.objects.filter(via="robot").exists() or not Deadline.objects.filter(
        robot__escalation="move", status="missed").exists()


def test_an_overdue_order_missed_its_deadlines_and_the_head_was_told(seeded):
    # given
    deal = Deal.objects.filter(is_overdue=True, stage__name="Новый").first()

    # then
    assert deal is not None
    missed = deal.deadlines.get(level=1, stage=deal.stage)
    assert missed.status == "missed" and missed.due_at < timezone.now() and missed.escalated_at
    run = RobotRun.objects.get(deal=deal, purpose="escalation", entry=f"deadline:{missed.pk}")
    assert run.status == "done" and run.result.startswith("notified ")
    # (the head of the department responsible then: a level-2 miss may have reassigned the deal since)
    assert User.objects.get(username=run.result.removeprefix("notified ")).role == User.Role.HEAD
    assert deal.deadlines.filter(level=2).exists()


def test_robot_logs_registers_and_problems(seeded):
    # then
    assert RobotRun.objects.filter(status="done").count() > Deal.objects.count()
    assert RobotRun.objects.filter(status__in=RobotRun.PROBLEMS).exists()
    confirmed = Deal.objects.filter(stage_changes__to_stage__name="Подтверждён").distinct().count()
    assert 0 < RegisterEntry.objects.filter(name="confirmed_orders").count() <= confirmed
    assert WorkItem.objects.filter(kind="task", deal__pipeline__name="B2B продажи").exists()
    # and what the robots sent is in the outbox's log and on the customers' timelines
    sms = OutboxMessage.objects.filter(kind="sms", status="sent").first()
    assert sms.payload["text"].startswith("Здравствуйте") and sms.contact_id
    assert Activity.objects.filter(kind=Activity.Kind.OUTBOX, detail_id=sms.pk).exists()


def test_what_is_left_open_is_what_the_drains_expect(seeded):
    # then open deadlines belong to the stay the deal is in now, due in the future
    now = timezone.now()
    for deadline in Deadline.objects.filter(status="open", deal__isnull=False).select_related("deal"):
        assert deadline.stage_id == deadline.deal.stage_id and deadline.due_at > now - timedelta(minutes=1)
    # and a pending run is keyed by that stay, so the drain runs it instead of skipping it
    for run in RobotRun.objects.filter(status="pending", deal__isnull=False).select_related("deal"):
        assert run.entry == stage_entry(run.deal) and run.stage_id == run.deal.stage_id
    # and today's orders came through the services: their SMS is queued in the outbox
    assert OutboxMessage.objects.filter(kind="sms", status="pending").exists()


def test_the_worker_carries_on_with_what_was_left_open(seeded):
    # given everything the seed left open falls due now
    now = timezone.now()
    Deadline.objects.filter(status="open").update(run_after=now - timedelta(seconds=1))
    RobotRun.objects.filter(status="pending").update(run_after=now - timedelta(seconds=1))
    problems = RobotRun.objects.filter(status__in=RobotRun.PROBLEMS).count()
    stays = {d.deal_id for d in Deadline.objects.filter(status="open", level=1, deal__isnull=False)}

    # when the worker's robot drains run
    while deadlines_drain() or robot_runs_drain():
        pass

    # then the deadlines were missed and escalated, and no run failed on the seeded data
    assert stays and not Deadline.objects.filter(status="open", level=1, created_at__lte=now).exists()
    assert RobotRun.objects.filter(status__in=RobotRun.PROBLEMS).count() == problems
    assert not RobotRun.objects.filter(status="pending", run_after__lte=timezone.now()).exists()
    moved_back = Deal.objects.filter(pk__in=stays, stage_changes__via="robot", stage__name="Новый")
    still_there = Deal.objects.filter(pk__in=stays).exclude(pk__in=moved_back)
    assert all(deal.is_overdue for deal in still_there)


def test_the_same_seed_tells_the_same_stories_whenever_it_is_seeded(seeded):
    # given the demo's process and customers, and two moments to seed at (a Tuesday noon, a Saturday night)
    process = Process(calendar=None, store=Pipeline.objects.get(name=STORE), b2b=Pipeline.objects.get(name=B2B),
                      stages={"store": list(Stage.objects.filter(pipeline__name=STORE).order_by("position")),
                              "b2b": list(Stage.objects.filter(pipeline__name=B2B).order_by("position"))},
                      robots={f"r{r.pk}": r for r in Robot.objects.exclude(stage=None)}, reasons={}, templates={},
                      endpoint=None)
    process.robots["pause_deadline"] = Robot.objects.get(stage__name="Пауза", kind="deadline")
    process.robots["new_deadline"] = Robot.objects.get(stage__name="Новый", kind="deadline", parent=None)
    users = {u.pk: u for u in User.objects.all()}
    pools = _customers(users)

    def told(now):
        ctx = Context(process=process, cal=calendar_for_pipeline(process.store), now=now, users=users, heads={},
                      retail_ids=[])
        return [(p.customer.id, p.title, p.lines, p.source) for p in _plans(42, ctx, pools, 40)]

    # when the same stories are told at both
    tuesday = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    saturday = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)

    # then every deal has the same customer, title, lines and source (only its times differ)
    assert told(tuesday) == told(saturday)


def test_leads_were_converted_or_lost_with_a_reason(seeded):
    # then
    converted = Lead.objects.filter(status=Lead.Status.CONVERTED)
    assert converted.exists() and all(lead.deals.exists() for lead in converted)
    lost = Lead.objects.filter(status=Lead.Status.LOST)
    assert lost.exists() and not lost.filter(lost_reason=None).exists()
    assert Lead.objects.filter(status=Lead.Status.NEW).exists()


# -- the real `make demo` script ----------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_ready(proc: subprocess.Popen, deadline: float) -> str:
    out = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        out.append(line)
        if "demo_call" in line:  # the banner's last line
            return "".join(out)
    raise AssertionError("demo.sh never said ready:\n" + "".join(out))


def test_demo_script_serves_the_login_and_stops_its_children(tmp_path):
    # given a fresh var directory and SQLite database, and a free port
    port = _free_port()
    env = {
        **os.environ, "OKNO_VAR_DIR": str(tmp_path), "OKNO_PORT": str(port), "OKNO_DEMO_CONTACTS": "50",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
    }
    proc = subprocess.Popen(
        [str(ROOT / "scripts" / "demo.sh")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        # when it is ready
        banner = _wait_for_ready(proc, time.monotonic() + 240)  # the seed: ~1 min alone, more on a busy machine
        login = re.search(r"Log in at (\S+) as (\S+) / (\S+)", banner)
        base, username, password = login.groups()
        assert base == f"http://127.0.0.1:{port}"

        # then the login page answers, the printed credentials work, and static files are served
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"{base}/login/", timeout=10)
        assert page.status == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.read().decode()).group(1)
        form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
        landing = opener.open(urllib.request.Request(
            f"{base}/login/", data=form.encode(), headers={"Referer": f"{base}/login/"}), timeout=10)
        assert landing.status == 200 and landing.url.rstrip("/").endswith("/contacts")
        assert "sessionid" in {c.name for c in jar}
        assert opener.open(f"{base}/static/okno/okno.css", timeout=10).status == 200
        assert {p.name for p in (tmp_path / "log").iterdir()} >= {"web.log", "worker.log", "tasks.log"}

        # when the printed demo_call command is run from another shell (none of the demo's
        # environment: no OKNO_PORT, SITE_URL, OKNO_VAR_DIR or DATABASE_URL of its own)
        command = re.search(r"\(screen pop\): (.+demo_call admin)$", banner, re.M).group(1)
        assert str(tmp_path) in command and "DATABASE_URL=" in command
        clean = {k: v for k, v in os.environ.items()
                 if k not in ("OKNO_PORT", "SITE_URL", "OKNO_VAR_DIR", "DATABASE_URL", "OKNO_PUSH_URL")}
        rang = subprocess.run(["bash", "-c", command + " --ring-seconds 0"], cwd=ROOT, env=clean,
                              capture_output=True, text=True, timeout=60)

        # then it rang the demo on its own port
        assert rang.returncode == 0, rang.stderr
        assert f"pages at {base} show" in rang.stdout
        assert (tmp_path / "demo.json").exists()

        # when Ctrl-C in its terminal (SIGINT to the whole process group)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=20)

        # then everything it started is gone
        assert not (tmp_path / "demo.json").exists()
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"{base}/login/", timeout=2)
        for _ in range(25):  # processes killed a moment ago may still await their reaping
            left = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
            if not left:
                break
            time.sleep(0.2)
        assert left == []
    finally:
        # Everything the script started lives in its session: leave none of it behind.
        leftovers = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
        for pid in leftovers:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc.poll() is None:
            proc.wait()
