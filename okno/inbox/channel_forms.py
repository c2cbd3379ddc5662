"""What an administrator sees of each channel kind: its name, where its URL goes at the provider,
and its settings as labelled fields (never a JSON textarea for what has a field).

A registry of kind -> KindForm, so the adapters stay as they are: an adapter says what it reads
(`required_settings`, `channel.settings.get(...)`); this module says how a person fills it in.
The PBX kinds live in okno.telephony but are described here too: descriptions are words only,
no import of telephony code (a kind with no description still works, under its slug).

Field kinds: text, ascii, secret (a password input, never echoed back: left blank on edit keeps the
stored value), bool, int, number, lines (a list, one per line), choice, calendar (a business
calendar's id, from okno.core).

Where a console path is not quoted from the provider's own documentation it says UNVERIFIED in
a comment beside it (see ../shared/PROTOCOLS.md for the sources).
"""

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

# Keys the worker keeps in a channel's settings: never shown, never overwritten by the forms.
STATE_KEYS = frozenset({"uidvalidity", "last_uid", "poll_due_at", "poll_lease_until", "poll_error"})
# Keys the main channel form edits itself.
OWN_KEYS = frozenset({"route_subdepartments"})


@dataclass(frozen=True)
class SettingField:
    key: str
    label: str
    kind: str = "text"
    required: bool = False
    help: str = ""
    default: object = None  # shown on a new channel; a bool's value when the key is missing
    choices: tuple = ()


@dataclass(frozen=True)
class KindForm:
    kind: str
    label: str
    # What it is, one line; shown when choosing a kind.
    summary: str = ""
    # Where the webhook URL goes at the provider: steps shown on the channel page.
    setup: tuple = ()
    fields: tuple[SettingField, ...] = field(default_factory=tuple)
    # True when nothing is posted to the channel's URL (Asterisk: Okno connects to the PBX).
    no_webhook: bool = False


def _pbx_common() -> tuple[SettingField, ...]:
    return (
        SettingField("callback_minutes", _("Call back a missed call within (minutes)"), "number",
                     help=_("A missed call opens a callback due this many working minutes later; "
                            "empty: the company's default.")),
        SettingField("calendar_id", _("Business hours"), "calendar",
                     help=_("The calendar whose working hours the callback deadline counts; empty: the "
                            "department's calendar, else the company's.")),
        SettingField("recording_store", _("Keep call recordings in Okno"), "bool", default=True,
                     help=_("Off: recordings stay at the PBX and are fetched when played.")),
    )


TIMEZONE = SettingField("timezone", _("PBX time zone"), "timezone", default="Europe/Moscow",
                        help=_("The time zone the PBX writes its times in, e.g. Europe/Moscow."))

_REGISTRY: dict[str, KindForm] = {}


def register(spec: KindForm) -> None:
    _REGISTRY[spec.kind] = spec


def spec_for(kind: str) -> KindForm:
    """The kind's description; an unknown kind is its slug with no fields."""
    return _REGISTRY.get(kind) or KindForm(kind=kind, label=kind)


def kind_label(kind: str) -> str:
    return str(spec_for(kind).label)


register(KindForm(
    "form", _("Web form"), _("Any form on your site posts its fields to Okno."),
    setup=(_("Paste the form below into your site's page, or point an existing form's action at the "
             "webhook URL (form-encoded or JSON)."),),
    fields=(
        SettingField("allowed_origins", _("Sites allowed to post"), "lines",
                     help=_("One address per line, e.g. https://shop.example.ru; empty: any site.")),
        SettingField("redirect_url", _("Thank-you page"), "url",
                     help=_("A plain HTML form (without the script) is sent here after posting.")),
        SettingField("honeypot", _("Hidden anti-bot field"), default="website",
                     help=_("A field hidden from people; a submission that fills it in is spam.")),
        SettingField("submissions_per_minute", _("Submissions a minute from one visitor"), "int",
                     help=_("Beyond this the site is answered 429 and the submission waits under inbox "
                            "problems; empty: the server's default (5).")),
    )))
register(KindForm(
    "tilda", _("Tilda form"), _("Forms of a Tilda site, through Tilda's webhook."),
    # From Tilda's help "Webhook: получение данных из форм на скрипт" (PROTOCOLS.md section 9).
    setup=(_("In Tilda: Site settings → Forms → Webhook, paste the webhook URL and pick the forms that "
             "send to it. Tilda's test request is answered and kept as ignored; it never makes a lead."),),
    fields=(
        SettingField("api_key_name", _("API key name"),
                     help=_("Only when Tilda's webhook settings send an API key: the key's name there.")),
        SettingField("api_key", _("API key"), "secret",
                     help=_("The key's value; a request without it is refused.")),
        SettingField("honeypot", _("Hidden anti-bot field"), default="website"),
    )))
register(KindForm(
    "jivo", _("Jivo"), _("Chats of a Jivo widget; the operator sees the customer's card in Jivo."),
    # From a third-party help page (PROTOCOLS.md section 1), not Jivo's own docs: UNVERIFIED.
    setup=(_("In Jivo: Manage → Channels → the widget's Settings → “Integration settings for developers”, "
             "paste the webhook URL as the webhook address and save."),
           _("Jivo signs nothing: the URL is the only secret. If it leaks, rotate it and paste the new one.")),
))
register(KindForm(
    "telegram", _("Telegram bot"), _("Customers write to your bot; managers answer from the card."),
    # Okno calls setWebhook itself (Telegram has no console for it): core.telegram.org/bots/api#setwebhook.
    setup=(_("Get the bot's token from @BotFather (/newbot) and enter it below."),
           _("Press “Connect the bot”: Okno tells Telegram the webhook URL and the secret (setWebhook). "
             "Telegram posts only to HTTPS addresses on ports 443, 80, 88 or 8443. After rotating the URL, "
             "connect again.")),
    fields=(
        SettingField("bot_token", _("Bot token"), "secret", required=True,
                     help=_("From @BotFather, like 123456:ABC-…")),
        SettingField("phones_from_text", _("Offer phone numbers typed in messages for the card"), "bool",
                     default=True),
        SettingField("fetch_files", _("Download photos and files"), "bool", default=True),
    )))
register(KindForm(
    "email", _("E-mail (IMAP)"), _("A mailbox Okno reads over IMAP and answers over SMTP."),
    setup=(_("Nothing to paste: Okno polls the mailbox. Test the connection after saving."),),
    no_webhook=True,
    fields=(
        SettingField("imap_host", _("IMAP server"), required=True, help=_("e.g. imap.yandex.ru")),
        SettingField("imap_port", _("IMAP port"), "int", help=_("Empty: 993 with SSL, else 143.")),
        SettingField("imap_ssl", _("IMAP over SSL"), "bool", default=True),
        SettingField("imap_starttls", _("IMAP with STARTTLS"), "bool", default=False,
                     help=_("Only for a plain (not SSL) connection.")),
        SettingField("imap_user", _("IMAP login"), required=True, help=_("Usually the mailbox's address.")),
        SettingField("imap_password", _("IMAP password"), "secret", required=True,
                     help=_("An app password where the mail service asks for one (Yandex, Gmail, Mail.ru).")),
        SettingField("imap_folder", _("Folder"), "ascii", default="INBOX",
                     help=_("Its IMAP name, in Latin letters (INBOX, INBOX/Leads).")),
        SettingField("imap_mark_seen", _("Mark fetched letters as read"), "bool", default=True),
        SettingField("smtp_host", _("SMTP server"), help=_("For replies from the card; empty: no replies.")),
        SettingField("smtp_port", _("SMTP port"), "int", help=_("Empty: 465 with SSL, 587 with STARTTLS, else 25.")),
        SettingField("smtp_ssl", _("SMTP over SSL"), "bool", default=False),
        SettingField("smtp_starttls", _("SMTP with STARTTLS"), "bool", default=True),
        SettingField("smtp_user", _("SMTP login")),
        SettingField("smtp_password", _("SMTP password"), "secret"),
        SettingField("smtp_from", _("Send from address"), help=_("Empty: the IMAP login.")),
        SettingField("smtp_from_name", _("Sender's name"), help=_("Empty: the channel's name.")),
    )))
register(KindForm(
    "mango", _("Mango Office"), _("Calls of a Mango Office virtual PBX."),
    # The API keys' place and the URL field: UNVERIFIED (Mango's PDF documents the API, not its console).
    setup=(_("In Mango Office's web account: Integrations → API Connector: copy the unique code (API key) "
             "and the signature key (salt) into the fields below, and paste the webhook URL as the "
             "“external system address”. Mango adds events/call, events/summary… to it."),),
    fields=(
        SettingField("api_key", _("Unique code (API key)"), "secret", required=True),
        SettingField("api_salt", _("Signature key (salt)"), "secret", required=True),
        SettingField("recording_via", _("Fetch recordings through"), "choice", default="",
                     choices=(("", _("a signed link")), ("post", _("the signed API request")))),
        *_pbx_common(),
    )))
register(KindForm(
    "zadarma", _("Zadarma"), _("Calls of a Zadarma PBX."),
    # The console path: UNVERIFIED (PROTOCOLS.md section 4b names the API, not the menu).
    setup=(_("In Zadarma: Settings → Integrations and API → API keys: copy the key and the secret below; "
             "then under notifications (NOTIFY_START, NOTIFY_END, NOTIFY_RECORD…) paste the webhook URL. "
             "Zadarma checks it with a zd_echo request, which Okno answers."),),
    fields=(
        SettingField("api_key", _("API key"), "secret",
                     help=_("Needed for recordings, click-to-call and the connection test.")),
        SettingField("api_secret", _("API secret"), "secret", required=True),
        TIMEZONE,
        *_pbx_common(),
    )))
register(KindForm(
    "telphin", _("Telphin"), _("Calls of a Telphin PBX."),
    # PROTOCOLS.md section 4c: subscriptions are made per extension (/extension/{id}/event/); the
    # console's menu: UNVERIFIED.
    setup=(_("In Telphin: for each extension, add event subscriptions (dial-in, dial-out, answer, hangup) "
             "with the webhook URL, method POST. With a secret parameter set below, add "
             "?<name>=<the channel's secret> to the URL."),),
    fields=(
        SettingField("client_id", _("API application id"),
                     help=_("A Telphin API application (client credentials): for recordings and click-to-call.")),
        SettingField("client_secret", _("API application secret"), "secret"),
        SettingField("secret_param", _("Secret parameter name"),
                     help=_("Optional: the query parameter that must carry the channel's secret.")),
        SettingField("extension_prefix", _("Extension prefix"), help=_("e.g. 13596* for 13596*101")),
        TIMEZONE,
        *_pbx_common(),
    )))
register(KindForm(
    "asterisk", _("Asterisk (AMI)"), _("A live connection to an Asterisk PBX's manager interface."),
    setup=(_("Nothing to paste: run manage.py run_ami beside the worker. In manager.conf, a user with "
             "read = call,cdr (and write = originate for click-to-call); timestampevents = yes."),),
    no_webhook=True,
    fields=(
        SettingField("host", _("Host"), required=True),
        SettingField("port", _("AMI port"), "int", default=5038),
        SettingField("username", _("AMI user"), required=True),
        SettingField("secret", _("AMI secret"), "secret", required=True),
        SettingField("extension_pattern", _("Employees' channel pattern"),
                     help=_("A regular expression whose first group is the extension; empty: PJSIP/SIP/IAX2 "
                            "channels of 2–6 digits.")),
        SettingField("context", _("Dialplan context for click-to-call"), default="from-internal"),
        SettingField("originate_channel", _("Employee's phone channel"), default="PJSIP/{extension}"),
        SettingField("originate_timeout_seconds", _("Ring the employee for (seconds)"), "int", default=30),
        TIMEZONE,
        *_pbx_common(),
    )))


def _calendar_choices() -> list[tuple]:
    from okno.core.models import Calendar

    return [("", "—"), *((c.pk, c.name) for c in Calendar.objects.order_by("name", "pk"))]


def _form_field(f: SettingField, *, editing: bool, has_value: bool) -> forms.Field:
    common = {"label": f.label, "help_text": f.help, "required": False}
    if f.kind == "secret":
        if editing and has_value:
            common["help_text"] = " ".join(filter(None, [str(f.help), str(_("Stored; leave blank to keep it."))]))
        return forms.CharField(widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                               max_length=500, strip=True, **common)
    if f.kind == "bool":
        return forms.BooleanField(**common)
    if f.kind == "int":
        return forms.IntegerField(min_value=0, max_value=10**6, **common)
    if f.kind == "number":
        return forms.FloatField(min_value=0, max_value=10**6, **common)
    if f.kind == "lines":
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, **common)
    if f.kind == "url":
        return forms.URLField(max_length=1000, assume_scheme="https", **common)
    if f.kind == "choice":
        return forms.ChoiceField(choices=list(f.choices), **common)
    if f.kind == "calendar":
        return forms.ChoiceField(choices=_calendar_choices(), **common)
    return forms.CharField(max_length=1000, **common)


class SettingsForm(forms.Form):
    """One kind's settings as fields; `settings_from` folds the answers into the stored settings."""

    def __init__(self, spec: KindForm, *args, stored: dict | None = None, **kwargs):
        self.spec, self.stored, self.editing = spec, dict(stored or {}), stored is not None
        if "initial" not in kwargs:
            kwargs["initial"] = self._initial()
        kwargs.setdefault("prefix", "s")
        super().__init__(*args, **kwargs)
        for f in spec.fields:
            field_ = _form_field(f, editing=self.editing, has_value=bool(self.stored.get(f.key)))
            if f.required and not (f.kind == "secret" and self.stored.get(f.key)):
                field_.widget.attrs["required"] = True
                field_.label_suffix = " *"
            self.fields[f.key] = field_

    def _initial(self) -> dict:
        initial = {}
        for f in self.spec.fields:
            value = self.stored.get(f.key, f.default if f.kind == "bool" or not self.editing else None)
            if f.kind == "secret" or value is None:
                continue
            if f.kind == "lines" and isinstance(value, list):
                value = "\n".join(str(v) for v in value)
            if f.kind == "bool" and isinstance(value, str):
                value = value.lower() not in ("false", "0", "")
            initial[f.key] = value
        return initial

    def clean(self):
        data = super().clean()
        for f in self.spec.fields:
            value = data.get(f.key)
            if f.kind == "timezone" and value:
                try:
                    ZoneInfo(value)
                except (ZoneInfoNotFoundError, ValueError):
                    self.add_error(f.key, _("Unknown time zone %(zone)s: use a name like Europe/Moscow.")
                                   % {"zone": value})
            if f.kind == "ascii" and value and not value.isascii():
                self.add_error(f.key, _("Only Latin letters, digits and punctuation: a folder's IMAP name, "
                                        "not the name the mail program shows."))
            if f.required and value in (None, "") and not (f.kind == "secret" and self.stored.get(f.key)):
                self.add_error(f.key, _("Required for this kind of channel."))
        return data

    def settings_from(self, base: dict) -> dict:
        """`base` (the stored settings) with this form's answers: an empty field removes its key (its
        default applies), a blank secret keeps the stored one; keys no field covers stay as in `base`."""
        result = dict(base)
        for f in self.spec.fields:
            value = self.cleaned_data.get(f.key)
            if f.kind == "secret" and not value:
                continue
            if f.kind == "lines":
                value = [line.strip() for line in (value or "").splitlines() if line.strip()]
            if f.kind == "calendar" and value:
                value = int(value)
            if f.kind == "int" and value is not None:
                value = int(value)
            if f.kind == "bool":
                result[f.key] = bool(value)
            elif value in (None, "", []):
                result.pop(f.key, None)
            else:
                result[f.key] = value
        return result

    def summary(self) -> list[tuple[str, str]]:
        """The stored settings as label/value rows for reading; secrets only as "set"."""
        rows = []
        for f in self.spec.fields:
            value = self.stored.get(f.key)
            if f.kind == "secret":
                shown = pgettext("a secret is", "set") if value else "—"
            elif f.kind == "bool":
                on = f.default if value is None else value not in (False, "false", "0", 0)
                shown = pgettext("switch", "yes") if on else pgettext("switch", "no")
            elif value in (None, "", []):
                shown = "—" if f.default in (None, "") else str(dict(f.choices).get(f.default, f.default))
            elif isinstance(value, list):
                shown = ", ".join(str(v) for v in value)
            elif f.kind == "calendar":
                shown = dict((str(k), n) for k, n in _calendar_choices()).get(str(value), str(value))
            elif f.kind == "choice":
                shown = str(dict(f.choices).get(value, value))
            else:
                shown = str(value)
            rows.append((str(f.label), shown))
        return rows


def extra_settings(spec: KindForm, stored: dict) -> dict:
    """The stored keys no field covers (an inline timetable, a Telphin extension map, api_url...):
    what the collapsed "Other settings (JSON)" box shows. Worker state is left out."""
    covered = {f.key for f in spec.fields} | STATE_KEYS | OWN_KEYS
    return {k: v for k, v in stored.items() if k not in covered}


def secret_keys(kind: str) -> set[str]:
    return {f.key for f in spec_for(kind).fields if f.kind == "secret"}
