"""Reads of documents, scoped to what the user may see: a document is seen by whoever sees its
deal (okno.people.visibility through okno.deals.selectors), another department's is a 404."""

from django.db.models import QuerySet
from django.http import Http404

from okno.deals.models import Deal
from okno.deals.selectors import deal_get
from okno.documents.models import Document, DocumentTemplate
from okno.people.models import User
from okno.people.visibility import deal_visibility_q


def documents_visible(*, user: User) -> QuerySet[Document]:
    return Document.objects.filter(deal_visibility_q(user, prefix="deal__"))


def document_get(*, user: User, pk: int) -> Document:
    document = documents_visible(user=user).select_related("deal", "deal__contact", "template", "supplier") \
        .filter(pk=pk).first()
    if document is None:
        raise Http404("No such document")
    return document


def documents_of_deal(*, deal: Deal) -> QuerySet[Document]:
    """The deal's documents, newest first (the caller has already read the deal through deal_get)."""
    return Document.objects.filter(deal=deal).select_related("supplier", "template").order_by("-created_at", "-id")


def templates_active() -> QuerySet[DocumentTemplate]:
    return DocumentTemplate.objects.filter(is_active=True).order_by("kind", "name", "id")


def template_get(*, pk: int, active_only: bool = False) -> DocumentTemplate:
    qs = DocumentTemplate.objects.filter(is_active=True) if active_only else DocumentTemplate.objects.all()
    template = qs.filter(pk=pk).first()
    if template is None:
        raise Http404("No such document template")
    return template


def deal_for_documents(*, user: User, pk: int) -> Deal:
    return deal_get(user=user, pk=pk)
