"""Chats as the Jivo adapter records them (a chat Conversation with its facts and messages),
written directly: a report test needs many, fast."""

import itertools
from datetime import datetime, timedelta

from okno.contacts.tests.factories import make_contact
from okno.inbox.models import Channel, Conversation, Message
from okno.inbox.tests.factories import make_channel

_ids = itertools.count(1)


def jivo_channel(*, department=None, name: str = "Jivo") -> Channel:
    return make_channel(kind="jivo", name=name, department=department)


def make_chat(*, channel: Channel, at: datetime, operator=None, replies: tuple[int, ...] = (30,),
              visitor_lines: int = 1, accepted: bool = True, rating: str = "", offline: bool = False,
              spam: bool = False, finished_after: int | None = 600, contact=None) -> Conversation:
    """A chat started at `at`: `visitor_lines` visitor messages, then an operator reply after each
    of `replies` seconds (each following a fresh visitor line). No replies: a missed chat (an
    offline message when `offline`)."""
    n = next(_ids)
    missed = not replies
    conv = Conversation.objects.create(
        channel=channel, contact=contact or make_contact(first_name=f"Посетитель{n}"), kind=Conversation.Kind.CHAT,
        external_id=f"jivo:1:{'offline:' if offline else ''}{n}", started_at=at, last_message_at=at,
        operator=None if missed else operator, accepted_at=at if accepted and not missed else None,
        finished_at=(at + timedelta(seconds=finished_after)) if finished_after is not None else None,
        rating=rating, missed=missed, spam=spam)
    t = at
    lines = []
    for i in range(visitor_lines):
        lines.append(Message(conversation=conv, direction="in", external_id=f"{'offline:' if offline else ''}in{i}",
                             text="?", sent_at=t))
    for i, seconds in enumerate(replies):
        if i:
            t += timedelta(seconds=5)
            lines.append(Message(conversation=conv, direction="in", external_id=f"more{i}", text="?", sent_at=t))
        t += timedelta(seconds=seconds)
        lines.append(Message(conversation=conv, direction="out", external_id=f"out{i}", text="!", sent_at=t))
    Message.objects.bulk_create(lines)
    if not missed:
        conv.first_reply_at = at + timedelta(seconds=replies[0])
        conv.save(update_fields=["first_reply_at"])
    return conv
