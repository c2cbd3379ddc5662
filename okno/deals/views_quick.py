"""Quick fields edited in place on the board's cards and the deal page (okno.deals.quick_fields).

GET shows the field (`?edit=1`: its small form), POST `value=` saves it through
`deal_quick_field_set`. A refused value comes back in the form with the reason beside it and
status 422 (the form tells htmx to swap it in); the stored value is unchanged. Who may see the
deal may edit it, as on the deal page's other fields (`selectors.deal_get`: another
department's deal is 404).
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from okno.core.errors import FieldError
from okno.deals import selectors
from okno.deals.quick_fields import deal_quick_field_set, quick_field_get
from okno.deals.templatetags.deals_ui import quick_field_html
from okno.deals.views_board import refusal_text

PLACES = ("card", "page")


@login_required
def deal_quick_field(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    deal = selectors.deal_get(user=request.user, pk=pk)
    spec = quick_field_get(deal.pipeline, key)
    if spec is None:
        raise Http404("No such quick field")
    place = request.POST.get("place") or request.GET.get("place")
    place = place if place in PLACES else "page"
    context = {"deal": deal, "spec": spec, "place": place, "error": "", "value": (deal.custom or {}).get(key) or ""}
    if request.method == "POST":
        value = request.POST.get("value", "")
        try:
            deal = deal_quick_field_set(actor=request.user, deal=deal, key=key, value=value, via="user")
        except FieldError as error:
            context.update(error=refusal_text(deal.pipeline, error), value=value)
            return render(request, "deals/_quick_field_form.html", context, status=422)
        response = HttpResponse(quick_field_html(deal, spec, place))
        # The deal page's timeline and other fragments listen for it.
        response["HX-Trigger"] = "deal-changed"
        return response
    if request.GET.get("edit") == "1":
        return render(request, "deals/_quick_field_form.html", context)
    return HttpResponse(quick_field_html(deal, spec, place))
