"""Where a form may send the browser back to: a page of this site, never another site.

A `next` (or `back`, `return_to`) value comes from the request, so anyone can craft a link or
form that carries one. Browsers read `//evil.example`, `/\\evil.example` and `\\\\evil.example`
as another host and `javascript:` as code; Django's `url_has_allowed_host_and_scheme` knows
these tricks, so every view asks it through `safe_next` rather than checking prefixes itself.
"""

from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request: HttpRequest, default: str, *, field: str = "next", prefix: str = "/") -> str:
    """The request's `field` (POST, then GET) when it is a URL of this site under `prefix`,
    else `default` (a URL or a URL name, as `redirect` takes).

    An https page never sends the browser back to plain http (`require_https`)."""
    target = (request.POST.get(field) or request.GET.get(field) or "").strip()
    if (target.startswith(prefix) and not target.startswith("//")
            and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                require_https=request.is_secure())):
        return target
    return resolve_url(default)
