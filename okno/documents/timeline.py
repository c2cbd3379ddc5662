"""How a document drawn on the card's timeline is loaded: the documents of a page at once."""

from okno.documents.models import Document
from okno.timeline.models import Activity
from okno.timeline.registry import details_of


def documents_for_timeline(activities: list[Activity]) -> dict[int, Document]:
    wanted = details_of(activities, Document)
    documents = Document.objects.in_bulk(set(wanted.values()))
    return {pk: documents[doc_id] for pk, doc_id in wanted.items() if doc_id in documents}
