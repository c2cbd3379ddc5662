"""Writing companies: create and update with their requisites, phones, e-mails and responsible.

Every refused value is a FieldError naming the field and the reason (English; pages translate it
with okno.core.reasons.reason_text). Requisites are checked with their official check digits
(okno/core/requisites.py); an empty value clears the field.
"""

from django.db import transaction

from okno.contacts.models import Company, Contact
from okno.contacts.services import contact_refresh_derived
from okno.core import requisites
from okno.core.emails import InvalidEmail, normalize_email
from okno.core.errors import FieldError
from okno.core.phones import InvalidPhone, normalize_phone
from okno.core.text import fold
from okno.people.models import User
from okno.people.visibility import users_visible_to

TEXT_FIELDS = {"legal_address": 500, "actual_address": 500, "bank_name": 300}
REQUISITES = ("inn", "kpp", "ogrn", "bik", "settlement_account", "correspondent_account")
FIELDS = ("name", *REQUISITES, *TEXT_FIELDS, "phones", "emails", "responsible_id")
MAX_PHONES = 20
MAX_EMAILS = 20


def _text(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | int) or "\x00" in str(value):  # PostgreSQL stores no NUL in text
        raise TypeError
    return str(value).strip()


def _list(value) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, str):  # a form's textarea: one a line
        return [line for line in value.replace(",", "\n").splitlines() if line.strip()]
    if not isinstance(value, list):
        raise TypeError
    return value


def company_clean(raw: dict, *, actor: User | None, company: Company | None = None) -> dict:
    """The given fields of `raw`, checked and normalised; raises FieldError naming each bad one.

    `company` is the one being changed (None: a new one): the name must stay unique among the
    others, and the checks that tie two fields (KPP and INN, account and BIK) read the stored
    value of the field not given."""
    errors: dict[str, str] = {}
    clean: dict = {}
    for field in raw:
        if field not in FIELDS:
            errors[field] = f"unknown field: {field}"
    given = {f: raw[f] for f in FIELDS if f in raw}
    for field, value in given.items():
        if field in ("phones", "emails", "responsible_id"):
            continue
        try:
            clean[field] = _text(value)
        except TypeError:
            errors[field] = "must be text"

    if "name" in clean or company is None:
        name = clean.get("name", "")
        if not name or len(name) > 300:
            errors["name"] = "must be 1 to 300 characters"
        else:
            others = Company.objects.filter(search_name=fold(name))
            if company is not None:
                others = others.exclude(pk=company.pk)
            if others.exists():
                errors["name"] = "this name is taken"
    for field, limit in TEXT_FIELDS.items():
        if len(clean.get(field, "")) > limit:
            errors[field] = f"at most {limit} characters"

    def current(field: str) -> str:
        if field in clean:
            return clean[field]
        return getattr(company, field) if company is not None else ""

    checks = {"inn": requisites.check_inn, "kpp": requisites.check_kpp, "ogrn": requisites.check_ogrn,
              "bik": requisites.check_bik}
    for field, check in checks.items():
        if clean.get(field):
            try:
                clean[field] = check(clean[field])
            except ValueError as refused:
                errors[field] = str(refused)
    # Ties between fields, judged on what the company will hold (given or stored) when both are good.
    inn, kpp, ogrn, bik = (current(f) for f in ("inn", "kpp", "ogrn", "bik"))
    if len(inn) == 12 and kpp and ({"inn", "kpp"} & clean.keys()) and not {"inn", "kpp"} & errors.keys():
        errors["kpp"] = requisites.KPP_FOR_IP
    if (inn and ogrn and ({"inn", "ogrn"} & clean.keys()) and not {"inn", "ogrn"} & errors.keys()
            and (len(inn), len(ogrn)) not in ((10, 13), (12, 15))):
        errors["ogrn"] = requisites.OGRN_KIND
    for field, check in (("settlement_account", requisites.check_settlement_account),
                         ("correspondent_account", requisites.check_correspondent_account)):
        account = current(field)
        if not account or "bik" in errors or not ({field, "bik"} & clean.keys()):
            continue
        try:
            clean[field] = check(account, bik)
        except ValueError as refused:
            errors[field] = str(refused)

    if "phones" in given:
        phones = []
        try:
            items = _list(given["phones"])
        except TypeError:
            errors["phones"] = "must be a list of phone numbers"
            items = []
        if len(items) > MAX_PHONES:
            errors["phones"] = f"at most {MAX_PHONES} phone numbers"
        for item in items[:MAX_PHONES]:
            number = item.get("number", "") if isinstance(item, dict) else item
            try:
                phone = normalize_phone(str(number))
            except InvalidPhone as refused:
                errors["phones"] = str(refused)
                break
            if all(p["e164"] != phone.e164 or p["extension"] != phone.extension for p in phones):
                phones.append({"e164": phone.e164, "extension": phone.extension})
        clean["phones"] = phones
    if "emails" in given:
        emails = []
        try:
            items = _list(given["emails"])
        except TypeError:
            errors["emails"] = "must be a list of e-mail addresses"
            items = []
        if len(items) > MAX_EMAILS:
            errors["emails"] = f"at most {MAX_EMAILS} e-mail addresses"
        for item in items[:MAX_EMAILS]:
            try:
                email = normalize_email(str(item))
            except InvalidEmail as refused:
                errors["emails"] = str(refused)
                break
            if email not in emails:
                emails.append(email)
        clean["emails"] = emails
    if "responsible_id" in given:
        value = given["responsible_id"]
        if value in (None, ""):
            clean["responsible"] = None
        else:
            try:
                pk = int(value)
            except (TypeError, ValueError):
                pk = None
            qs = User.objects.filter(is_active=True)
            if actor is not None:
                qs = qs.filter(users_visible_to(actor))
            clean["responsible"] = qs.filter(pk=pk).first() if pk is not None else None
            if clean["responsible"] is None:
                errors["responsible_id"] = "no such user you may assign"
    elif company is None and actor is not None:
        clean["responsible"] = actor
    clean.pop("responsible_id", None)
    if errors:
        raise FieldError(errors)
    return clean


@transaction.atomic
def company_create(*, actor: User | None, raw: dict) -> Company:
    """A new company; its responsible is the actor unless another is given."""
    clean = company_clean(raw, actor=actor)
    return Company.objects.create(search_name=fold(clean["name"]), **clean)


@transaction.atomic
def company_update(*, actor: User | None, company: Company, raw: dict) -> Company:
    """Changes the given fields; a new name is also written into its cards' search text."""
    clean = company_clean(raw, actor=actor, company=company)
    renamed = "name" in clean and clean["name"] != company.name
    for field, value in clean.items():
        setattr(company, field, value)
    if "name" in clean:
        company.search_name = fold(company.name)
    company.save()
    if renamed:
        for contact in Contact.objects.filter(company=company).select_related("company").iterator():
            contact_refresh_derived(contact)
    return company
