"""What adapters produce: plain dataclasses, independent of any provider's format."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Sender:
    """Whatever the customer told us about themselves in this message."""

    name: str = ""
    phones: list[str] = field(default_factory=list)  # as sent; normalised when identified
    emails: list[str] = field(default_factory=list)
    handles: list[tuple[str, str]] = field(default_factory=list)  # (kind, id), e.g. ("telegram", "123")
    city: str = ""


@dataclass
class InboundItem:
    """One message (or one form submission) in one conversation."""

    conversation_kind: str  # Conversation.Kind
    thread_id: str  # the provider's conversation id, unique within the channel; "" = the customer's details only
    message_id: str  # unique within the conversation: a replay records nothing twice
    sender: Sender
    direction: str = "in"
    text: str = ""
    html: str = ""
    subject: str = ""
    author_name: str = ""
    operator_email: str = ""
    occurred_at: datetime | None = None
    utm: dict = field(default_factory=dict)
    page_url: str = ""
    facts: dict = field(default_factory=dict)  # chat KPI facts: accepted_at, finished_at, rating, missed...
    meta: dict = field(default_factory=dict)
    opens_lead: bool = True
    # Ids of messages this one answers (e-mail's References/In-Reply-To): when the thread_id is
    # not known yet but one of these was recorded, the item joins that message's conversation.
    thread_refs: list[str] = field(default_factory=list)
