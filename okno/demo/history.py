"""The demo's lived-in history: six weeks of chats, Telegram, e-mail, web forms and calls on the cards.

Channels are made by `channel_create`, as an administrator's clicks make them. Every inbound
message starts as the provider's own payload (a Jivo `chat_finished`, a Telegram update, an
RFC 822 e-mail, a form post), stored as an InboundEvent already processed ("done") and parsed by
the channel's own adapter; the rows are then written in bulk exactly as `inbound_item_record`
writes them (conversation, messages, KPI facts through `conversation_facts_set`, the card's
timeline entry). Replies from the card are outbound messages with a sent Delivery, as
`conversation_reply` and the worker leave them. Calls are made of PBX facts and derived by
`call_summary`, as the telephony adapters' calls are, with their legs and stored recordings
(a few short generated WAV files). One by one through the services, a few thousand stories
took minutes on SQLite (contact identification per message); in bulk, seconds.
"""

import base64
import email.utils
import json
import random
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from okno.contacts.models import Contact, ContactEmail, ContactPhone, MessengerHandle
from okno.demo import history_data as hd
from okno.demo.deal_data import STORE_PRODUCTS
from okno.demo.history_calls import _call_story, _calls_write
from okno.inbox import adapters
from okno.inbox.channels import channel_create
from okno.inbox.items import InboundItem, Sender
from okno.inbox.models import Channel, Conversation, Delivery, InboundEvent, Message
from okno.inbox.services import ACTIVITY_KIND, activity_summary, conversation_facts_set
from okno.people.models import Department, User
from okno.telephony.models import PbxExtension
from okno.timeline.models import Activity

DAYS = 42
# One card in this many has a history of its own (3,300 of the default 20,000).
CARDS_PER_STORY = 6
# What a customer's story is made of, by weight.
KINDS = [("call", 40), ("jivo", 20), ("email", 14), ("form", 14), ("telegram", 12)]
# The Mango line `manage.py demo_call` rings through: the seed makes it, the command finds it.
PBX_NAME = "Demo PBX"
SHOP_EMAIL = "sales@okno-shop.example"
JIVO_WIDGET = "okno-shop"
MAILBOX_OFF = ("Демо: почтовый ящик выдуман. Укажите свой IMAP/SMTP и включите канал "
               "(Demo: a made-up mailbox; set your own IMAP/SMTP, then switch the channel on)")


@dataclass
class HistoryReport:
    customers: int = 0
    chats: int = 0
    telegram: int = 0
    emails: int = 0
    forms: int = 0
    calls: int = 0
    recordings: int = 0
    messages: int = 0
    events: int = 0
    showcase: int | None = None  # a card with every kind of history: the one to open first


@dataclass
class Channels:
    jivo: Channel
    telegram: Channel
    email: Channel
    form: Channel
    pbx: Channel


@dataclass
class Customer:
    pk: int
    first: str
    last: str
    city: str
    responsible: User
    phone: str = ""  # E.164
    raw_phone: str = ""
    email: str = ""


@dataclass
class _Thread:
    """One conversation as inbound_item_record would build it from its items."""

    channel: Channel
    contact_id: int
    conv: Conversation | None = None
    first: object = None  # the first item with something to say (the timeline's summary)
    messages: list[Message] = field(default_factory=list)
    replies: list[Message] = field(default_factory=list)  # from the card: a Delivery each


def history_seed(*, admin: User, seed: int | None, say, now: datetime | None = None) -> HistoryReport:
    """The demo's conversations and calls; called inside `demo_seed`'s transaction."""
    rng = random.Random(f"history-{seed}" if seed is not None else None)
    now = (now or timezone.now()).replace(microsecond=0)
    report = HistoryReport()
    channels = _channels(admin)
    users = list(User.objects.filter(is_active=True).exclude(pk=admin.pk).select_related("department"))
    operators = [u for u in users if u.department and u.department.name == "Колл-центр" and u.role != User.Role.HEAD]
    operators = operators or users
    _extensions(channels.pbx, [admin, *users])
    customers = _customers(rng, users)
    report.customers = len(customers)
    if not customers:
        return report
    writer = _Writer(channels, {u.email.lower(): u for u in users if u.email}, now)
    calls: list[tuple[Customer, dict]] = []
    writer.update_id, writer.tg_message_id = rng.randrange(10**8, 9 * 10**8), rng.randrange(1000, 9000)
    showcase = next((c for c in customers if c.phone and c.email), None)
    report.showcase = showcase.pk if showcase else None
    for cust in customers:
        kinds = [_weighted(rng, KINDS) for _ in range(rng.choice((1, 1, 2, 2, 3)))]
        if cust is showcase:  # one card a newcomer opens first: a customer of every channel
            kinds = ["form", "call", "jivo", "email", "telegram", "call"]
        for kind in kinds:
            at = now - timedelta(days=rng.uniform(0.05, DAYS))
            at = _working_hours(rng, at, now)
            if kind == "call" and cust.phone:
                calls += _call_story(rng, cust, at, operators, now)
            elif kind == "jivo":
                writer.jivo(rng, cust, at, rng.choice(operators))
            elif kind == "telegram":
                writer.telegram(rng, cust, at)
            elif kind == "email" and cust.email:
                writer.email(rng, cust, at)
            else:
                writer.form(rng, cust, at)
    if showcase is not None and showcase.phone:
        # ...and its latest call, 40 minutes ago, was missed: an overdue callback on the card.
        calls.append((showcase, {"direction": "in", "at": now - timedelta(minutes=40), "employee": operators[0],
                                 "answered": False, "wait": 20, "owes_callback": True}))
    report.messages, report.events = writer.flush()
    threads = Counter(t.channel.kind for t in writer.threads.values())
    report.chats, report.telegram = threads["jivo"], threads["telegram"]
    report.emails, report.forms = threads["email"], threads["form"]
    say(f"{report.chats} Jivo chats, {report.telegram} Telegram threads, {report.emails} e-mail threads, "
        f"{report.forms} web forms ({report.messages} messages)")
    report.calls, report.recordings = _calls_write(channels.pbx, calls, rng)
    say(f"{report.calls} calls ({report.recordings} recorded) over the past {DAYS} days")
    return report


# -- set-up ---------------------------------------------------------------------------------------

def _channels(admin: User) -> Channels:
    depts = {d.name: d.pk for d in Department.objects.all()}
    jivo = channel_create(actor=admin, kind="jivo", name="Чат на сайте (Jivo)", department_id=depts.get("Колл-центр"),
                          settings_={"widget_id": JIVO_WIDGET})
    telegram = channel_create(actor=admin, kind="telegram", name="Telegram @okno_shop_bot",
                              department_id=depts.get("Розница"),
                              settings_={"bot_token": "0000000000:demo-token-of-no-real-bot"})
    mailbox = channel_create(actor=admin, kind="email", name=f"Почта {SHOP_EMAIL}", department_id=depts.get("Продажи"),
                             settings_={"imap_host": "imap.okno-shop.example", "imap_user": SHOP_EMAIL,
                                        "imap_password": "demo", "smtp_host": "smtp.okno-shop.example",
                                        "smtp_from": f"Интернет-магазин «Окно» <{SHOP_EMAIL}>",
                                        "demo_note": MAILBOX_OFF})
    # Switched off, as the SMS provider is: the worker would poll a mailbox that does not exist.
    Channel.objects.filter(pk=mailbox.pk).update(is_active=False)
    mailbox.is_active = False
    form = channel_create(actor=admin, kind="form", name="Форма на сайте", department_id=depts.get("Продажи"))
    pbx = channel_create(actor=admin, kind="mango", name=PBX_NAME, department_id=depts.get("Колл-центр"),
                         settings_={"api_key": secrets.token_hex(16), "api_salt": secrets.token_hex(16)})
    return Channels(jivo=jivo, telegram=telegram, email=mailbox, form=form, pbx=pbx)


def _extensions(pbx: Channel, users: list[User]) -> None:
    """Everyone's extension on the demo line, numbered as `demo_call` numbers a new one."""
    PbxExtension.objects.bulk_create([PbxExtension(channel=pbx, user=u, code=str(100 + u.pk)) for u in users])


def _customers(rng: random.Random, users: list[User]) -> list[Customer]:
    by_pk = {u.pk: u for u in users}
    rows = list(Contact.objects.filter(responsible__isnull=False, status=Contact.Status.ACTIVE).order_by("pk")
                .values_list("pk", "first_name", "last_name", "city", "responsible_id"))
    rows = [r for r in rows if r[4] in by_pk]
    picked = sorted(rng.sample(rows, min(len(rows), max(1, len(rows) // CARDS_PER_STORY)))) if rows else []
    ids = [r[0] for r in picked]
    phones: dict[int, tuple[str, str]] = {}
    emails: dict[int, str] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        for cid, e164, raw in ContactPhone.objects.filter(contact_id__in=chunk).order_by("id").values_list(
                "contact_id", "e164", "raw"):
            phones.setdefault(cid, (e164, raw))
        for cid, address in ContactEmail.objects.filter(contact_id__in=chunk).order_by("id").values_list(
                "contact_id", "email"):
            emails.setdefault(cid, address)
    return [Customer(pk=pk, first=first, last=last, city=city or "Москва", responsible=by_pk[resp],
                     phone=phones.get(pk, ("", ""))[0], raw_phone=phones.get(pk, ("", ""))[1],
                     email=emails.get(pk, "")) for pk, first, last, city, resp in picked]


def _mime_word(text: str) -> str:
    """A header's words in RFC 2047 base64 when not ASCII (a real mail client's encoding)."""
    if text.isascii():
        return text
    return "=?utf-8?b?" + base64.b64encode(text.encode()).decode() + "?="


def _weighted(rng: random.Random, pairs: list[tuple]) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def _working_hours(rng: random.Random, at: datetime, now: datetime) -> datetime:
    """Moscow 09:00–21:00 (customers write in the evening too), never in the future."""
    msk = at.astimezone(timezone.get_fixed_timezone(180))
    msk = msk.replace(hour=rng.randrange(9, 21), minute=rng.randrange(60), second=rng.randrange(60))
    return min(msk.astimezone(UTC), now - timedelta(minutes=rng.randrange(20, 120)))


def _fill(text: str, rng: random.Random, cust: Customer, me: User | None = None, product: tuple | None = None) -> str:
    name, sku, price = product or rng.choice(STORE_PRODUCTS)
    return text.format(product=name, order=f"№{rng.randrange(10000, 99999)}", city=cust.city,
                       first=cust.first or "клиент", me=me.first_name if me else "Анна", price=price, sku=sku.lower())


# -- conversations --------------------------------------------------------------------------------

class _Writer:
    def __init__(self, channels: Channels, staff_by_email: dict[str, User], now: datetime):
        self.ch = channels
        self.staff_by_email = staff_by_email
        self.now = now
        self.events: list[InboundEvent] = []
        self.threads: dict[tuple[int, str], _Thread] = {}
        self.handles: list[MessengerHandle] = []
        self.seen: set[tuple[int, str | None]] = set()
        self.update_id = 0  # Telegram's update ids and message ids, growing as the bot's do
        self.tg_message_id = 0
        self.chat_id = 700000
        self.adapters = {c.kind: adapters.get(c.kind) for c in (channels.jivo, channels.telegram, channels.email,
                                                                channels.form)}

    # Each story makes the provider's payload and records it as the drain would.
    def _inbound(self, channel: Channel, contact_id: int, body: bytes, content_type: str, at: datetime,
                 items: list | None = None) -> None:
        adapter = self.adapters[channel.kind]
        dedup_key = adapter.dedup_key(body, content_type)
        if (channel.pk, dedup_key) in self.seen:
            return  # the same submission twice: the hook stores it once, as here
        self.seen.add((channel.pk, dedup_key))
        event = InboundEvent(channel=channel, received_at=at, headers={}, body=body, content_type=content_type,
                             event_type=adapter.event_type(body, content_type),
                             dedup_key=dedup_key, status=InboundEvent.Status.DONE,
                             attempts=1, run_after=at, processed_at=at + timedelta(milliseconds=120))
        self.events.append(event)
        for item in adapter.parse_event(event) if items is None else items:
            self._record(channel, contact_id, item)

    def _record(self, channel: Channel, contact_id: int, item) -> None:
        """inbound_item_record's writes, for a customer already known (the story's card)."""
        key = (channel.pk, item.thread_id)
        thread = self.threads.get(key)
        if thread is None:
            at = item.occurred_at or self.now
            conv = Conversation(channel=channel, contact_id=contact_id, kind=item.conversation_kind,
                                external_id=item.thread_id, subject=item.subject[:500], started_at=at,
                                last_message_at=at, utm=item.utm, page_url=item.page_url[:1000])
            thread = self.threads[key] = _Thread(channel=channel, contact_id=contact_id, conv=conv)
        conv = thread.conv
        conversation_facts_set(conv, item, self.staff_by_email.get(item.operator_email.lower())
                               if item.operator_email else None)
        if not (item.text or item.html):
            return
        sent_at = item.occurred_at or self.now
        thread.first = thread.first or item
        conv.started_at = min(conv.started_at, sent_at)
        conv.last_message_at = max(conv.last_message_at, sent_at)
        thread.messages.append(Message(direction=item.direction, external_id=item.message_id,
                                       author_name=item.author_name[:200], text=item.text, html=item.html,
                                       sent_at=sent_at, meta=item.meta))

    def _reply(self, channel: Channel, thread_id: str, author: User, text: str, at: datetime, external_id: str):
        """A reply typed on the card and sent by the worker (conversation_reply + deliveries_drain)."""
        thread = self.threads[(channel.pk, thread_id)]
        thread.replies.append(Message(direction=Message.Direction.OUT, external_id=external_id, author=author,
                                      author_name=author.display_name, text=text, sent_at=at))
        thread.conv.last_message_at = max(thread.conv.last_message_at, at)

    def jivo(self, rng: random.Random, cust: Customer, at: datetime, operator: User) -> None:
        self.chat_id += 1 + rng.randrange(5)  # the widget's other chats (no card of ours) in between
        chat_id = self.chat_id
        missed = rng.random() < 0.12
        script = [("c", rng.choice(hd.JIVO_MISSED))] if missed else rng.choice(hd.JIVO_CHATS)
        lines, t = [], at
        for who, text in script:
            t += timedelta(seconds=rng.randrange(20, 150))
            line = {"message": _fill(text, rng, cust, operator), "timestamp": int(t.timestamp()),
                    "type": "agent" if who == "o" else "visitor"}
            if who == "o":
                line["agent_id"] = str(operator.pk)
            lines.append(line)
        utm = rng.choice(hd.UTMS)
        name, sku, _price = rng.choice(STORE_PRODUCTS)
        visitor = {"name": f"{cust.first} {cust.last}".strip(), "number": str(50000 + cust.pk)}
        if cust.raw_phone and rng.random() < 0.7:
            visitor["phone"] = cust.raw_phone
        payload = {"event_name": "chat_finished", "widget_id": JIVO_WIDGET, "chat_id": chat_id, "visitor": visitor,
                   "agents": [] if missed else [{"id": operator.pk, "name": operator.display_name,
                                                 "email": operator.email}],
                   "page": {"url": f"{hd.SITE}/product/{sku.lower()}/", "title": name},
                   "session": {"geoip": {"city": cust.city},
                               "utm_json": {k[4:]: v for k, v in utm.items()}},
                   "chat": {"messages": lines, "blacklisted": False,
                            "rate": None if missed else rng.choice(("positive", "positive", "positive", None))}}
        body = json.dumps(payload, ensure_ascii=False).encode()
        self._inbound(self.ch.jivo, cust.pk, body, "application/json", t + timedelta(seconds=30))
        self.handles.append(MessengerHandle(contact_id=cust.pk, kind="jivo_visitor",
                                            handle=f"{JIVO_WIDGET}:{visitor['number']}"))

    def telegram(self, rng: random.Random, cust: Customer, at: datetime) -> None:
        user_id = 300000000 + cust.pk * 13
        author = cust.responsible
        t = at
        thread_id = f"tg:{user_id}"
        for who, text in rng.choice(hd.TELEGRAM_THREADS):
            if t > at:  # the first message at the story's moment, the rest minutes apart
                t += timedelta(seconds=rng.randrange(60, 1800))
            else:
                t += timedelta(seconds=1)
            if t > self.now:
                break
            self.tg_message_id += 1 + rng.randrange(3)  # the bot's other chats in between
            message_id = self.tg_message_id
            text = _fill(text, rng, cust, author)
            if who == "o":
                self._reply(self.ch.telegram, thread_id, author, text, t, str(message_id))
                continue
            self.update_id += 1 + rng.randrange(3)
            update_id = self.update_id
            sender = {"id": user_id, "is_bot": False, "first_name": cust.first, "last_name": cust.last,
                      "language_code": "ru"}
            update = {"update_id": update_id, "message": {
                "message_id": message_id, "from": sender, "date": int(t.timestamp()), "text": text,
                "chat": {"id": user_id, "first_name": cust.first, "last_name": cust.last, "type": "private"}}}
            self._inbound(self.ch.telegram, cust.pk, json.dumps(update, ensure_ascii=False).encode(),
                          "application/json", t)
        self.handles.append(MessengerHandle(contact_id=cust.pk, kind="telegram", handle=str(user_id)))

    def email(self, rng: random.Random, cust: Customer, at: datetime) -> None:
        """A thread of letters and our answers (copies in the mailbox, as the adapter reads them).

        The raw letters are stored; their items are made here as EmailAdapter.parse makes them
        (its test re-parses one and finds it recorded): parsing with the e-mail package's default
        policy was ~4 ms a letter, most of the history's time."""
        subject, script = rng.choice(hd.EMAIL_THREADS)
        subject = _fill(subject, rng, cust)
        me = cust.responsible
        customer_name = f"{cust.first} {cust.last}".strip()
        shop_name = f"{me.display_name}, интернет-магазин «Окно»"
        refs: list[str] = []
        t = at
        for i, (who, text) in enumerate(script):
            if i:  # the first letter at the story's moment, answers minutes to hours later
                t += timedelta(minutes=rng.randrange(15, 60 * 20))
            if t > self.now:
                break
            out = who == "o"
            domain = "okno-shop.example" if out else cust.email.split("@")[-1]
            own_id = f"<{rng.getrandbits(64):016x}@{domain}>"  # as the adapter keeps ids: with brackets
            this_subject = subject if i == 0 else f"Re: {subject}"
            text = _fill(text, rng, cust, me).strip()
            (from_name, from_addr), (to_name, to_addr) = (
                ((shop_name, SHOP_EMAIL), (customer_name, cust.email)) if out
                else ((customer_name, cust.email), (shop_name, SHOP_EMAIL)))
            headers = [f"Message-ID: {own_id}", f"Date: {email.utils.format_datetime(t)}",
                       f"From: {_mime_word(from_name)} <{from_addr}>", f"To: {_mime_word(to_name)} <{to_addr}>",
                       f"Subject: {_mime_word(this_subject)}", "MIME-Version: 1.0",
                       'Content-Type: text/plain; charset="utf-8"', "Content-Transfer-Encoding: 8bit"]
            if refs:
                headers += [f"In-Reply-To: {refs[-1]}", "References: " + " ".join(refs)]
            raw = ("\n".join(headers) + "\n\n" + text + "\n").encode()
            adapter_refs = [*refs, refs[-1]] if refs else []  # References, then In-Reply-To
            item = InboundItem(
                conversation_kind="email", thread_id=(refs or [own_id])[0], message_id=own_id,
                sender=Sender(name="" if out else customer_name, emails=[cust.email]),
                direction="out" if out else "in", text=text, subject=this_subject, author_name=from_name,
                occurred_at=t, opens_lead=not out, thread_refs=adapter_refs,
                meta={"message_id": own_id, "references": adapter_refs[-20:], "from_email": from_addr,
                      "reply_to": from_addr, "to": [to_addr], "attachments": [], "automatic": False})
            self._inbound(self.ch.email, cust.pk, raw, "message/rfc822", t, items=[item])
            refs.append(own_id)

    def form(self, rng: random.Random, cust: Customer, at: datetime) -> None:
        form_name, path, comment = rng.choice(hd.FORMS)
        fields = {"formname": form_name, "name": f"{cust.first} {cust.last}".strip() if rng.random() < 0.8
                  else cust.first}
        if cust.raw_phone:
            fields["phone"] = cust.raw_phone
        if cust.email and (not cust.raw_phone or rng.random() < 0.4):
            fields["email"] = cust.email
        product = rng.choice(STORE_PRODUCTS)  # the page's product is the one asked about
        if comment:
            fields["comment"] = _fill(comment, rng, cust, product=product)
        if form_name == "Оптовым покупателям":
            fields["company"] = f"ООО «{cust.last or 'Ромашка'} и партнёры»"
        fields.update(rng.choice(hd.UTMS))
        fields["page"] = hd.SITE + _fill(path, rng, cust, product=product)
        if "email" not in fields and "phone" not in fields:
            fields["email"] = f"client{cust.pk}@example.ru"
        self._inbound(self.ch.form, cust.pk, urlencode(fields).encode(), "application/x-www-form-urlencoded", at)

    def flush(self) -> tuple[int, int]:
        """Writes everything in bulk: events, conversations, messages, deliveries, timeline rows."""
        InboundEvent.objects.bulk_create(self.events, batch_size=500)
        threads = [t for t in self.threads.values() if t.messages or t.replies]
        convs = [t.conv for t in threads]
        Conversation.objects.bulk_create(convs, batch_size=500)
        messages, replies = [], []
        for t in threads:
            for m in t.messages:
                m.conversation = t.conv
                messages.append(m)
            for m in t.replies:
                m.conversation = t.conv
                replies.append(m)
        Message.objects.bulk_create(messages + replies, batch_size=1000)
        Delivery.objects.bulk_create([Delivery(message=m, status=Delivery.Status.SENT, attempts=1, run_after=m.sent_at,
                                               sent_at=m.sent_at + timedelta(seconds=1)) for m in replies],
                                     batch_size=1000)
        conv_type = ContentType.objects.get_for_model(Conversation)
        Activity.objects.bulk_create([
            Activity(contact_id=t.contact_id, kind=ACTIVITY_KIND[t.conv.kind], occurred_at=t.conv.started_at,
                     summary=activity_summary(t.channel, t.first) if t.first else t.channel.name,
                     detail_type=conv_type, detail_id=t.conv.pk) for t in threads], batch_size=1000)
        seen = set(MessengerHandle.objects.filter(
            contact_id__in={h.contact_id for h in self.handles}).values_list("contact_id", "kind", "handle"))
        fresh = []
        for h in self.handles:
            if (h.contact_id, h.kind, h.handle) not in seen:
                seen.add((h.contact_id, h.kind, h.handle))
                fresh.append(h)
        MessengerHandle.objects.bulk_create(fresh, batch_size=1000)
        return len(messages) + len(replies), len(self.events)
