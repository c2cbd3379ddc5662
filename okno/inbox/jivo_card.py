"""The customer's card as Jivo shows it to the operator while the chat runs.

Jivo reads our reply to chat_accepted/chat_updated synchronously, so this is a read-only
lookup of three indexed queries: it never writes and never waits for the worker (the event it
answers has not been processed yet). The card is found the way the worker will identify the
sender (okno.contacts.identify): Jivo identities, then the phone in E.164, then the e-mail;
among several matches the oldest card wins, as the worker's merge keeps it.

The operator in Jivo is not an Okno user: the card is shown whatever department owns it, as
the worker attaches the chat to it whatever the department. The "open in CRM" link applies
the visibility rule of whoever opens it.

The queries are plain SQL (same text on SQLite and PostgreSQL): on this path, building them
with the ORM cost more than running them (measured: bench/bench_jivo.py).
"""

from django.conf import settings
from django.db import connection
from django.urls import reverse

from okno.contacts.models import Company, Contact, ContactEmail, ContactPhone, MessengerHandle, Tag
from okno.core.emails import InvalidEmail, normalize_email
from okno.core.phones import format_phone, try_normalize_phone
from okno.deals.models import Lead
from okno.inbox.adapters.jivo import thread_of, visitor_sender
from okno.inbox.models import Conversation
from okno.people.models import User

NEW_CUSTOMER = [{"title": "Клиент", "content": "Новый клиент: в CRM карточки нет"}]


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _marks(values: list) -> str:
    return ", ".join(["%s"] * len(values))


def jivo_card_find(*, handles: list[tuple[str, str]], phones: list[str], emails: list[str]) -> int | None:
    """The id of the active card these identities point at, strongest evidence first: one query,
    a UNION ALL of the indexed look-ups ranked by evidence, then by the oldest card."""
    parts: list[str] = []
    params: list = []
    contact = _table(Contact)
    if handles:
        pairs = " OR ".join(["(x.kind = %s AND x.handle = %s)"] * len(handles))
        parts.append(f"SELECT 1 AS rank, x.contact_id FROM {_table(MessengerHandle)} x WHERE {pairs}")
        params += [v for pair in handles for v in pair]
    e164s = list(dict.fromkeys(p.e164 for p in map(try_normalize_phone, phones) if p))
    if e164s:
        parts.append(f"SELECT 2 AS rank, x.contact_id FROM {_table(ContactPhone)} x WHERE x.e164 IN ({_marks(e164s)})")
        params += e164s
    cleaned = []
    for raw in emails:
        try:
            cleaned.append(normalize_email(raw))
        except InvalidEmail:
            continue
    if cleaned:
        parts.append(f"SELECT 3 AS rank, x.contact_id FROM {_table(ContactEmail)} x "
                     f"WHERE x.email IN ({_marks(cleaned)})")
        params += cleaned
    if not parts:
        return None
    sql = (f"SELECT m.contact_id FROM ({' UNION ALL '.join(parts)}) m JOIN {contact} c ON c.id = m.contact_id "
           "WHERE c.status = %s ORDER BY m.rank, m.contact_id LIMIT 1")
    with connection.cursor() as cur:
        cur.execute(sql, [*params, Contact.Status.ACTIVE])
        row = cur.fetchone()
    return row[0] if row else None


def _card_row(contact_id: int, channel_id: int, thread: str) -> dict:
    """The card's names, responsible, company, first phone and e-mail, and its counts, in one row."""
    phone, email = _table(ContactPhone), _table(ContactEmail)
    sql = f"""
        SELECT c.first_name, c.middle_name, c.last_name, u.id, u.first_name, u.last_name, u.username, co.name,
          (SELECT p.e164 FROM {phone} p WHERE p.contact_id = c.id ORDER BY p.id LIMIT 1),
          (SELECT p.extension FROM {phone} p WHERE p.contact_id = c.id ORDER BY p.id LIMIT 1),
          (SELECT e.email FROM {email} e WHERE e.contact_id = c.id ORDER BY e.id LIMIT 1),
          (SELECT COUNT(*) FROM {_table(Lead)} l WHERE l.contact_id = c.id AND l.status IN ({_marks(Lead.OPEN)})),
          (SELECT COUNT(*) FROM {_table(Conversation)} v WHERE v.contact_id = c.id
             AND NOT (v.channel_id = %s AND v.external_id = %s))
        FROM {_table(Contact)} c
        LEFT JOIN {_table(User)} u ON u.id = c.responsible_id
        LEFT JOIN {_table(Company)} co ON co.id = c.company_id
        WHERE c.id = %s"""
    with connection.cursor() as cur:
        cur.execute(sql, [*[str(s) for s in Lead.OPEN], channel_id, thread, contact_id])
        row = cur.fetchone()
        through = Contact.tags.through
        cur.execute(f"SELECT t.name FROM {_table(Tag)} t JOIN {_table(through)} ct ON ct.tag_id = t.id "
                    "WHERE ct.contact_id = %s ORDER BY t.name", [contact_id])
        tags = [r[0] for r in cur.fetchall()]
    keys = ("first", "middle", "last", "responsible_id", "r_first", "r_last", "r_username", "company", "e164",
            "extension", "email", "open_leads", "earlier")
    return {**dict(zip(keys, row, strict=True)), "tags": tags}


def jivo_card_reply(*, channel, data: dict) -> dict:
    """`{"result": "ok", contact_info, custom_data, crm_link, enable_assign}` for one chat event."""
    sender = visitor_sender(data)
    contact_id = jivo_card_find(handles=sender.handles, phones=sender.phones, emails=sender.emails)
    if contact_id is None:
        return {"result": "ok", "custom_data": NEW_CUSTOMER, "enable_assign": False}
    # Earlier chats and calls: this chat's own conversation (if the worker got to it) is not earlier.
    card = _card_row(contact_id, channel.pk, thread_of(data, str(data.get("chat_id"))))
    info = {"name": " ".join(p for p in (card["first"], card["middle"], card["last"]) if p)
            or sender.name or f"#{contact_id}"}
    if card["e164"]:
        info["phone"] = format_phone(card["e164"], card["extension"] or "")
    if card["email"]:
        info["email"] = card["email"]
    responsible = "не назначен"
    if card["responsible_id"]:
        # As User.display_name: the full name, else the login.
        responsible = f"{card['r_first'] or ''} {card['r_last'] or ''}".strip() or card["r_username"]
    lines = [{"title": "Ответственный", "content": responsible}]
    if card["company"]:
        lines.append({"title": "Компания", "content": card["company"]})
    lines += [
        {"title": "Открытые лиды", "content": str(card["open_leads"] or 0)},
        {"title": "Чатов и звонков ранее", "content": str(card["earlier"] or 0)},
    ]
    if card["tags"]:
        lines.append({"title": "Теги", "content": ", ".join(card["tags"])})
    # Deals with their sums and the last orders join these lines when those domains exist.
    link = settings.SITE_URL.rstrip("/") + reverse("contacts:card", args=[contact_id])
    return {"result": "ok", "contact_info": info, "custom_data": lines, "crm_link": link, "enable_assign": False}
