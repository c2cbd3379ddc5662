"""The demo companies' requisites, phones, e-mails and responsible: a company page that looks lived-in.

Cards name their companies (okno/demo/data.py); this gives each company invented requisites with
valid check digits (okno/core/requisites.py), its main line and office e-mail, and as responsible
the owner of its first card (so that manager sees it). Its own random source: the rest of the
seed draws the same numbers with or without it. One UPDATE a company: ~0.1 s for 459 (a 4,000-card seed)."""

import random

from okno.contacts.models import Company, Contact
from okno.core import requisites
from okno.core.text import fold
from okno.demo.data import Generator

# Invented banks (name, BIK); correspondent accounts are computed with their keys.
BANKS = [
    ("АО «Банк Северный Кредит»", "044525901"),
    ("ПАО «Волжский Промбанк»", "043601902"),
    ("АО «Уральский Торговый Банк»", "046577903"),
    ("ООО «Банк Невский»", "044030904"),
    ("АО «Сибирский Расчётный Банк»", "045004905"),
]
# INN's first two digits: the region of the tax office.
REGIONS = {"Москва": "77", "Санкт-Петербург": "78", "Новосибирск": "54", "Екатеринбург": "66",
           "Казань": "16", "Нижний Новгород": "52", "Самара": "63"}
STREETS = ["ул. Ленина", "ул. Садовая", "пр-т Мира", "ул. Советская", "ул. Заводская", "наб. Речная",
           "ул. Гагарина", "пер. Торговый", "ш. Энтузиастов", "ул. Промышленная"]


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def requisites_for(rng: random.Random, name: str, city: str) -> dict:
    region = REGIONS.get(city, f"{rng.randrange(1, 90):02d}")
    address = f"{city or 'Москва'}, {rng.choice(STREETS)}, д. {rng.randrange(1, 120)}"
    office = f", оф. {rng.randrange(1, 400)}"
    bank_name, bik = BANKS[rng.randrange(len(BANKS))]
    if name.startswith("ИП "):
        values = {"inn": requisites.with_check_digit_inn12(region + _digits(rng, 8)), "kpp": "",
                  "ogrn": requisites.with_check_digit_ogrn("3" + rng.choice("01") + _digits(rng, 2) + region
                                                           + _digits(rng, 8)),
                  "settlement_account": requisites.with_key_account(bik, "40802810" + _digits(rng, 12))}
    else:
        values = {"inn": requisites.with_check_digit_inn10(region + _digits(rng, 7)),
                  "kpp": f"{region}{rng.randrange(1, 99):02d}01001",
                  "ogrn": requisites.with_check_digit_ogrn("1" + _digits(rng, 2) + region + _digits(rng, 7)),
                  "settlement_account": requisites.with_key_account(bik, "40702810" + _digits(rng, 12))}
    return {**values, "legal_address": address + office,
            "actual_address": address + office if rng.random() < 0.6 else f"{city or 'Москва'}, "
            f"{rng.choice(STREETS)}, д. {rng.randrange(1, 120)}",
            "bank_name": bank_name, "bik": bik,
            "correspondent_account": requisites.with_key_account(bik, "30101810" + "0" * 9 + bik[6:],
                                                                 correspondent=True)}


def companies_seed(gen: Generator, *, seed: int | None) -> int:
    """Fills in the seeded companies; returns how many."""
    rng = random.Random(f"companies-{seed}")
    planned = {fold(c.name): c for c in gen.companies}
    owner = {}
    for company_id, responsible_id in (Contact.objects.filter(company__isnull=False, responsible__isnull=False)
                                       .order_by("pk").values_list("company_id", "responsible_id")):
        owner.setdefault(company_id, responsible_id)
    companies = list(Company.objects.order_by("pk").values_list("pk", "name", "search_name"))
    for pk, name, search_name in companies:
        plan = planned.get(search_name)
        values = requisites_for(rng, name, plan.city if plan else "")
        values["responsible_id"] = owner.get(pk)
        if plan:
            values["phones"] = [{"e164": "+7" + plan.phone_digits, "extension": ""}]
            values["emails"] = [f"{rng.choice(['info', 'office', 'zakaz', 'sales'])}@{plan.domain}"]
        # One UPDATE a company: bulk_update's CASE expressions cost more to build (0.7 s for 459).
        Company.objects.filter(pk=pk).update(**values)
    return len(companies)
