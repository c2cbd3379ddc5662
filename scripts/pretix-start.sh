#!/usr/bin/env bash
# Starts the private pretix of the online-store tests (installed by scripts/pretix-setup.sh):
#   scripts/pretix-start.sh <port> <okno webhook url>
# Creates (once) the organizer "okno", the event "shop" with one item, a team API token and a
# webhook to <okno webhook url> for orders placed, paid, canceled and changed; prints
# "PRETIX_READY {json with url, organizer, event, item, token}" and then runs pretix's server in
# the foreground (the test stops it by its pid).
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=$1
HOOK=$2
VENV=var/pretix-venv
# Called from Okno's tests: their Django settings must not leak into pretix's.
unset DJANGO_SETTINGS_MODULE DATABASE_URL
export PRETIX_CONFIG_FILE="$(pwd)/var/pretix/pretix.cfg"
[ -x "$VENV/bin/python" ] && [ -f "$PRETIX_CONFIG_FILE" ] || { echo "PRETIX_MISSING run scripts/pretix-setup.sh"; exit 3; }
sed -i "s#^url=.*#url=http://127.0.0.1:$PORT#" "$PRETIX_CONFIG_FILE"
"$VENV/bin/python" -m pretix shell <<PY
import json
from datetime import timedelta
from django.utils import timezone
from django_scopes import scopes_disabled
from pretix.api.models import WebHook, WebHookEventListener
from pretix.base.models import Event, Item, Organizer, Quota, Team

with scopes_disabled():
    org, _ = Organizer.objects.get_or_create(slug="okno", defaults={"name": "Okno test shop"})
    event = Event.objects.filter(organizer=org, slug="shop").first()
    if event is None:
        event = Event.objects.create(organizer=org, slug="shop", name="Магазин", currency="RUB", live=True,
                                     date_from=timezone.now() + timedelta(days=30))
        event.settings.set("payment_manual__enabled", True)
    item = Item.objects.filter(event=event).first() or Item.objects.create(event=event, name="Билет",
                                                                            default_price=2500)
    quota = Quota.objects.filter(event=event).first() or Quota.objects.create(event=event, name="Все", size=None)
    quota.items.add(item)
    team, _ = Team.objects.get_or_create(organizer=org, name="Okno", defaults={
        "all_events": True, "all_event_permissions": True, "all_organizer_permissions": True})
    token = team.tokens.first() or team.tokens.create(name="okno")
    WebHook.objects.filter(organizer=org).delete()
    hook = WebHook.objects.create(organizer=org, target_url="$HOOK", all_events=True, enabled=True)
    for action in ("pretix.event.order.placed", "pretix.event.order.paid", "pretix.event.order.canceled",
                   "pretix.event.order.changed.*"):
        WebHookEventListener.objects.create(webhook=hook, action_type=action)
    print("PRETIX_READY " + json.dumps({"url": "http://127.0.0.1:$PORT", "organizer": org.slug, "event": event.slug,
                                        "item": item.pk, "token": token.token}))
PY
exec "$VENV/bin/python" -m pretix runserver --noreload "127.0.0.1:$PORT"
