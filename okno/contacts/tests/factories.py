from okno.contacts import services
from okno.contacts.models import Contact
from okno.people.models import User


def make_contact(*, actor: User | None = None, **fields) -> Contact:
    """Creates a card through the service, as every door of the product does."""
    fields.setdefault("first_name", "Иван")
    fields.setdefault("last_name", "Петров")
    data = services.contact_data_clean(fields, actor=actor)
    contact, _ = services.contact_create(actor=actor, data=data)
    return contact
