"""The only tags and filters a message template may use: Django's own, minus what can reach out.

Left out: `load` (no other libraries), `url`, `csrf_token`, `querystring`, `debug` (prints the
context and the loaded modules), `include`/`extends`/`block` (no loaders), `lorem`, and the
filters that could blow a short template up into gigabytes (`center`, `ljust`, `rjust`,
`stringformat` with a huge width) or print an object's repr (`pprint`). `floatformat` keeps at
most 10 places. Loops are counted: a template that makes more than MAX_LOOP_ITERATIONS turns of
`for` in one render fails instead of keeping the worker busy.
"""

from django.template import Library, defaultfilters, defaulttags
from django.template.defaulttags import ForNode

register = Library()


class TemplateTooBig(Exception):
    """The template makes too much work for one message."""


MAX_LOOP_ITERATIONS = 10_000
TAGS = ("autoescape", "comment", "cycle", "filter", "firstof", "if", "ifchanged", "now", "regroup",
        "resetcycle", "spaceless", "templatetag", "verbatim", "widthratio", "with")
UNSAFE_FILTERS = {"center", "ljust", "rjust", "stringformat", "pprint", "floatformat"}

for _name in TAGS:
    register.tags[_name] = defaulttags.register.tags[_name]
for _name, _fn in defaultfilters.register.filters.items():
    if _name not in UNSAFE_FILTERS:
        register.filters[_name] = _fn


class LimitedForNode(ForNode):
    def render(self, context):
        values = self.sequence.resolve(context, ignore_failures=True)
        turns = context.render_context.get("outbox_loop_turns", 0) + (len(values) if hasattr(values, "__len__") else 0)
        context.render_context["outbox_loop_turns"] = turns
        if turns > MAX_LOOP_ITERATIONS:
            raise TemplateTooBig(f"more than {MAX_LOOP_ITERATIONS} loop turns")
        return super().render(context)


@register.tag("for")
def do_for(parser, token):
    node = defaulttags.do_for(parser, token)
    node.__class__ = LimitedForNode
    return node


@register.filter(is_safe=True)
def floatformat(value, arg=-1):
    """Django's floatformat with at most 10 decimal places (a huge precision would build a huge string)."""
    text = str(arg)
    digits = "".join(ch for ch in text if ch.isdigit() or ch == "-")
    try:
        places = max(-10, min(10, int(digits or -1)))
    except ValueError:
        places = -1
    suffix = "".join(ch for ch in text if ch in "gu")
    return defaultfilters.floatformat(value, f"{places}{suffix}")
