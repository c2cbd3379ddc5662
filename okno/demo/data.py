"""Realistic raw demo customers, before validation: what people really type into a CRM.

No database here: `Generator` turns a seed into plain dicts in the shape `contact_data_clean`
accepts, plus the duplicates a real base collects (the same customer typed again with the
phone in another format, a typo in the surname, е for ё, Latin letters...).
"""

import random
import re
from dataclasses import dataclass, field

from faker import Faker

from okno.core.phones import InvalidPhone, normalize_phone

# Faker's ru_RU first names include Порфирий and Филарет; a real base is mostly these.
MALE_NAMES = (
    "Александр Алексей Андрей Антон Артём Борис Вадим Василий Виктор Виталий Владимир Владислав Дмитрий "
    "Евгений Егор Иван Игорь Илья Кирилл Константин Максим Михаил Никита Николай Олег Павел Пётр Роман "
    "Руслан Семён Сергей Станислав Степан Тимур Фёдор Юрий Ярослав"
).split()
FEMALE_NAMES = (
    "Александра Алёна Алина Анастасия Анна Валентина Валерия Вера Виктория Галина Дарья Диана Екатерина "
    "Елена Елизавета Жанна Ирина Карина Кристина Ксения Лариса Любовь Людмила Маргарита Марина Мария "
    "Надежда Наталья Нина Оксана Ольга Полина Светлана София Татьяна Юлия Яна"
).split()
# Patronymic stems: "Сергеевич" / "Сергеевна".
PATRONYMICS = (
    "Александров Алексеев Андреев Анатольев Борисов Вадимов Васильев Викторов Владимиров Геннадьев "
    "Григорьев Дмитриев Евгеньев Иванов Игорев Юрьев Константинов Леонидов Максимов Михайлов Николаев "
    "Олегов Павлов Петров Романов Сергеев Степанов Фёдоров Юрьев Ярославов"
).split()
# Cities weighted as in a Moscow-based company's base; the rest come from Faker.
CITIES = [
    ("Москва", 34), ("Санкт-Петербург", 12), ("Екатеринбург", 4), ("Новосибирск", 4), ("Казань", 4),
    ("Нижний Новгород", 3), ("Краснодар", 3), ("Самара", 3), ("Ростов-на-Дону", 3), ("Воронеж", 2),
    ("Пермь", 2), ("Уфа", 2), ("Челябинск", 2), ("Тверь", 2), ("Подольск", 2), ("Химки", 2),
]
SOURCES = [
    ("Сайт", 28), ("Звонок", 24), ("Jivo", 14), ("Рекомендация", 9), ("Авито", 6), ("Telegram", 5),
    ("Выставка", 4), ("Холодный звонок", 4), ("", 6),
]
TAGS = ["VIP", "Опт", "Розница", "Постоянный клиент", "Партнёр", "Тендер", "Доставка", "Не звонить", "Должник"]
SEGMENTS = ["Частное лицо", "Малый бизнес", "Средний бизнес", "Крупный бизнес"]
CUSTOM_FIELDS = [
    # key, label, type, choices
    ("budget", "Бюджет", "number", []),
    ("birthday", "День рождения", "date", []),
    ("segment", "Сегмент", "choice", SEGMENTS),
]
EMAIL_DOMAINS = [
    ("mail.ru", 30), ("yandex.ru", 25), ("gmail.com", 18), ("bk.ru", 6), ("inbox.ru", 5), ("list.ru", 5),
    ("rambler.ru", 4), ("ya.ru", 4), ("icloud.com", 3),
]
RU_MOBILE_CODES = [
    903, 905, 906, 909, 910, 912, 915, 916, 917, 919, 920, 921, 925, 926, 929, 950, 951, 952, 960, 961,
    962, 964, 965, 968, 977, 980, 981, 985, 987, 989, 991, 993, 995, 996, 999,
]
# (region code, share of the company's main lines)
RU_LANDLINE_CODES = [(495, 40), (499, 15), (812, 15), (343, 5), (383, 5), (843, 5), (861, 5), (846, 5), (863, 5)]
# A Russian business also hears from its neighbours; how each writes its mobile numbers.
FOREIGN = [
    ("375", [25, 29, 33, 44], ["+375 {a} {b}-{c}-{d}", "+375{a}{b}{c}{d}", "8 10 375 {a} {b}{c}{d}"]),
    ("380", [50, 63, 67, 93, 97], ["+380 {a} {b} {c}{d}", "+380{a}{b}{c}{d}"]),
    ("998", [90, 91, 93, 94, 97], ["+998 {a} {b}-{c}-{d}", "+998 ({a}) {b} {c} {d}"]),
    ("7", [701, 702, 705, 707, 747, 771, 777], ["+7 {a} {b} {c}{d}", "8 ({a}) {b}-{c}-{d}", "+7{a}{b}{c}{d}"]),
]
# The formats one Russian mobile really arrives in (forms, operators, imports, chats).
RU_FORMATS = [
    "8 ({a}) {b}-{c}-{d}", "+7 {a} {b}{c}{d}", "{a}{b}{c}{d}", "8-{a}-{b}-{c}-{d}", "+7({a}){b} {c} {d}",
    "+7{a}{b}{c}{d}", "8{a}{b}{c}{d}", "8 {a} {b} {c} {d}", "+7 ({a}) {b}-{c}-{d}", "7{a}{b}{c}{d}",
]
LANDLINE_FORMATS = [
    "+7 ({a}) {b}-{c}-{d} доб. {x}", "8 {a} {b}{c}{d} доб.{x}", "({a}) {b}-{c}-{d}, доб. {x}",
    "+7 {a} {b}-{c}-{d} ext. {x}", "8 ({a}) {b}-{c}-{d} доб {x}",
]
NOTES = [
    "Перезвонить после {date}, просил не беспокоить до обеда.",
    "Запросил коммерческое предложение на {n} шт., отправил на почту.",
    "Не берёт трубку, написал в WhatsApp.",
    "Интересуется доставкой в {city}, уточнить сроки у логистов.",
    "Договорились о встрече в офисе {date}.",
    "Оплатил счёт №{n}, ждёт отгрузку.",
    "Недоволен сроками прошлой поставки, предложил скидку 5%.",
    "Сравнивает с конкурентами, решение после {date}.",
    "Бухгалтерия просит акт сверки за квартал.",
    "Лицо, принимающее решение, — директор; секретарь соединяет только по утрам.",
    "Просит звонить на рабочий номер, мобильный для личного.",
    "Оставил заявку повторно, уже работаем по первой.",
]

_NOT_DOMAIN = re.compile(r"[^a-z0-9]")
_TRANSLIT = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s", "t",
     "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"], strict=True,
))


def translit(text: str) -> str:
    """Иван Петров -> Ivan Petrov, as people spell themselves in Latin letters."""
    out = []
    for ch in text:
        low = ch.lower()
        if low in _TRANSLIT:
            lat = _TRANSLIT[low]
            out.append(lat.capitalize() if ch != low else lat)
        else:
            out.append(ch)
    return "".join(out)


def _weighted(rng: random.Random, pairs: list[tuple]) -> object:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


@dataclass
class RawContact:
    """One card as typed, plus what the seeder needs to know about it."""

    data: dict
    created_days_ago: int
    notes: list[str] = field(default_factory=list)
    duplicate_of: int | None = None  # index of the original in the generated list
    duplicate_kind: str = ""
    owner_index: int = 0  # picks the responsible manager; a duplicate often lands on another one


@dataclass
class Company:
    name: str
    domain: str
    phone_digits: str  # "4951234567": employees share it with their own extension
    city: str


class Generator:
    """Reproducible raw customers: the same seed gives the same base."""

    DUPLICATE_KINDS = [
        ("phone_format", 30), ("email_case", 12), ("surname_typo", 18), ("yo", 10), ("swap", 8),
        ("latin", 10), ("name_only", 12),
    ]

    def __init__(self, seed: int | None = None):
        self.rng = random.Random(seed)
        self.fake = Faker("ru_RU")
        self.fake.seed_instance(seed if seed is not None else self.rng.randrange(2**32))
        self.used_phones: set[str] = set()
        self.used_emails: set[str] = set()
        self.companies: list[Company] = []

    # -- phones ---------------------------------------------------------------------------
    def _split(self, digits: str) -> dict:
        return {"a": digits[:-7], "b": digits[-7:-4], "c": digits[-4:-2], "d": digits[-2:]}

    def _checked(self, raw: str, e164: str) -> str | None:
        """The raw text if it normalises to the number we meant (formats are data; trust none)."""
        try:
            return raw if normalize_phone(raw).e164 == e164 else None
        except InvalidPhone:
            return None

    def format_number(self, e164: str, *, avoid: str = "") -> str:
        """The number written the way some person would; `avoid` a given spelling."""
        if e164.startswith("+7") and e164[2] != "7":
            formats = RU_FORMATS
        else:
            formats = next(f for cc, codes, f in FOREIGN if e164.startswith("+" + cc) and (
                cc != "7" or e164[2] == "7"))
        national = e164[1 + len(self._country(e164)):]
        for fmt in self.rng.sample(formats, len(formats)):
            raw = self._checked(fmt.format(**self._split(national)), e164)
            if raw and raw != avoid:
                return raw
        return e164

    @staticmethod
    def _country(e164: str) -> str:
        for cc in ("375", "380", "998"):
            if e164.startswith("+" + cc):
                return cc
        return "7"

    def new_mobile(self) -> str:
        """An unused, valid E.164 mobile: mostly Russian, some from the neighbours."""
        while True:
            if self.rng.random() < 0.06:
                cc, codes, _ = self.rng.choice(FOREIGN)
                code = self.rng.choice(codes)
            else:
                cc, code = "7", self.rng.choice(RU_MOBILE_CODES)
            e164 = f"+{cc}{code}{self.rng.randrange(10**7):07d}"
            if e164 in self.used_phones:
                continue
            try:
                if normalize_phone(e164).e164 != e164:
                    continue
            except InvalidPhone:
                continue
            self.used_phones.add(e164)
            return e164

    def company_phone(self, company: Company) -> str:
        digits = self._split(company.phone_digits)
        for fmt in self.rng.sample(LANDLINE_FORMATS, len(LANDLINE_FORMATS)):
            raw = fmt.format(x=self.rng.randrange(10, 400), **digits)
            if self._checked(raw, "+7" + company.phone_digits):
                return raw
        return "+7" + company.phone_digits

    # -- companies and e-mails --------------------------------------------------------------
    def make_companies(self, count: int) -> None:
        seen = set()
        while len(self.companies) < count:
            name = self.fake.company()
            if name.lower() in seen:
                continue
            seen.add(name.lower())
            core = name.split("«")[-1].split("»")[0].split()[0].lower()
            domain = (_NOT_DOMAIN.sub("", translit(core)) or "firma") + self.rng.choice([".ru", ".ru", ".com"])
            while True:
                code = _weighted(self.rng, RU_LANDLINE_CODES)
                digits = f"{code}{self.rng.randrange(2_000_000, 9_999_999)}"
                if self._checked("+7" + digits, "+7" + digits) and "+7" + digits not in self.used_phones:
                    break
            self.used_phones.add("+7" + digits)
            self.companies.append(Company(name, domain, digits, self.city()))

    def personal_email(self, first: str, last: str, *, domain: str | None = None) -> str | None:
        f, la = translit(first).lower(), translit(last).lower()
        for _ in range(5):
            local = self.rng.choice([f"{f}.{la}", f"{la}.{f}", f"{f[0]}.{la}", f"{la}{self.rng.randrange(1, 99)}",
                                     f"{f}{self.rng.randrange(1970, 2005)}", f"{la}_{f[0]}"])
            email = f"{local}@{domain or _weighted(self.rng, EMAIL_DOMAINS)}"
            if email not in self.used_emails:
                self.used_emails.add(email)
                return email
        return None

    def city(self) -> str:
        return _weighted(self.rng, CITIES) if self.rng.random() < 0.8 else self.fake.city_name()

    # -- people -----------------------------------------------------------------------------
    def person_name(self) -> tuple[str, str, str, bool]:
        male = self.rng.random() < 0.5
        stem = self.rng.choice(PATRONYMICS)
        if male:
            return self.fake.last_name_male(), self.rng.choice(MALE_NAMES), stem + "ич", True
        return self.fake.last_name_female(), self.rng.choice(FEMALE_NAMES), stem + "на", False

    def contact(self) -> RawContact:
        rng = self.rng
        last, first, middle, _male = self.person_name()
        data: dict = {
            "last_name": last, "first_name": first, "middle_name": middle if rng.random() < 0.8 else "",
            "source": _weighted(rng, SOURCES), "phones": [], "emails": [], "custom": {},
        }
        company = rng.choice(self.companies) if self.companies and rng.random() < 0.35 else None
        data["city"] = company.city if company else (self.city() if rng.random() < 0.85 else "")
        if rng.random() < 0.92:
            data["phones"].append({"number": self.format_number(self.new_mobile()), "kind": "mobile"})
            if rng.random() < 0.05:
                data["phones"].append({"number": self.format_number(self.new_mobile()), "kind": "other"})
        if company:
            data["company"] = company.name
            if rng.random() < 0.5:
                data["phones"].append({"number": self.company_phone(company), "kind": "work"})
            data["custom"]["budget"] = rng.choice([5, 10, 25, 50, 120, 300, 750, 1500]) * 10_000
        if rng.random() < (0.7 if company else 0.45):
            domain = company.domain if company and rng.random() < 0.6 else None
            email = self.personal_email(first, last, domain=domain)
            if email:
                data["emails"].append(email)
        if not data["phones"] and not data["emails"]:
            data["phones"].append({"number": self.format_number(self.new_mobile()), "kind": "mobile"})
        if rng.random() < 0.2:
            data["custom"]["birthday"] = self.fake.date_of_birth(minimum_age=20, maximum_age=70).isoformat()
        if rng.random() < 0.5:
            data["custom"]["segment"] = "Частное лицо" if not company else rng.choice(SEGMENTS[1:])
        data["tags"] = rng.sample(TAGS, k=rng.choice([0, 0, 0, 1, 1, 2]))
        notes = [self.note(data["city"]) for _ in range(rng.choice([1, 1, 2, 3]))] if rng.random() < 0.12 else []
        return RawContact(data=data, created_days_ago=rng.randrange(0, 540), notes=notes,
                          owner_index=rng.randrange(1_000_000))

    def note(self, city: str) -> str:
        date = self.fake.date_between(start_date="-30d", end_date="+30d").strftime("%d.%m")
        return self.rng.choice(NOTES).format(date=date, n=self.rng.randrange(10, 5000), city=city or "Москву")

    # -- duplicates ---------------------------------------------------------------------------
    def typo(self, word: str) -> str:
        """One slip of the finger or the ear: swapped, doubled or dropped letter, а/о, е/и."""
        if len(word) < 4:
            return word + word[-1]
        i = self.rng.randrange(1, len(word) - 1)
        kind = self.rng.choice(["swap", "double", "drop", "vowel"])
        if kind == "swap" and word[i] != word[i + 1]:
            return word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if kind in ("swap", "double"):
            return word[:i] + word[i] + word[i:]
        if kind == "drop":
            return word[:i] + word[i + 1:]
        for a, b in (("о", "а"), ("а", "о"), ("е", "и"), ("и", "е")):
            if a in word[1:]:
                j = word.index(a, 1)
                return word[:j] + b + word[j + 1:]
        return word[:i] + word[i] + word[i:]

    def duplicate(self, original: RawContact, index: int) -> RawContact:
        """The same customer typed in again, the way it really happens."""
        rng = self.rng
        src = original.data
        kind = _weighted(rng, self.DUPLICATE_KINDS)
        phones = [p for p in src["phones"] if p["kind"] != "work"]
        if kind == "email_case" and not src["emails"]:
            kind = "phone_format"
        if kind in ("phone_format", "surname_typo", "yo", "swap") and not phones:
            kind = "email_case" if src["emails"] else "name_only"
        data = {
            "last_name": src["last_name"], "first_name": src["first_name"],
            "middle_name": src["middle_name"] if rng.random() < 0.5 else "",
            "city": src["city"], "source": _weighted(rng, SOURCES), "phones": [], "emails": [], "custom": {},
        }
        shared_phone = phones[0]["number"] if phones else None
        if kind == "email_case":
            email = src["emails"][0]
            local, domain = email.split("@")
            data["emails"] = [rng.choice([local.capitalize(), local.upper(), local.title()]) + "@" + domain.upper()]
        elif kind == "latin":
            data.update(last_name=translit(src["last_name"]), first_name=translit(src["first_name"]), middle_name="")
            data["emails"] = [src["emails"][0]] if src["emails"] else []
            if not data["emails"] and shared_phone:
                data["phones"] = [{"number": self._reformat(shared_phone), "kind": "mobile"}]
        elif kind == "name_only":
            # Called from a new number: only the name and the city say it is them.
            data["last_name"] = self.typo(src["last_name"]) if rng.random() < 0.5 else src["last_name"]
            data["middle_name"] = src["middle_name"]
            data["phones"] = [{"number": self.format_number(self.new_mobile()), "kind": "mobile"}]
        else:
            data["phones"] = [{"number": self._reformat(shared_phone), "kind": "mobile"}]
            if kind == "surname_typo":
                data["last_name"] = self.typo(src["last_name"])
            elif kind == "swap":
                data["last_name"], data["first_name"], data["middle_name"] = src["first_name"], src["last_name"], ""
            elif kind == "yo":
                self._yo_pair(original, data)
        return RawContact(data=data, created_days_ago=rng.randrange(0, original.created_days_ago + 1),
                          duplicate_of=index, duplicate_kind=kind,
                          owner_index=original.owner_index if rng.random() < 0.5 else rng.randrange(1_000_000))

    def _reformat(self, raw: str) -> str:
        e164 = normalize_phone(raw).e164
        return self.format_number(e164, avoid=raw)

    def _yo_pair(self, original: RawContact, data: dict) -> None:
        """One card says Фёдор Семёнов, the other Федор Семенов (keyboards without ё)."""
        src = original.data
        for name in ("first_name", "last_name"):
            if "ё" in src[name]:
                data[name] = src[name].replace("ё", "е")
                return
        yo_names = [n for n in (MALE_NAMES if src["first_name"] in MALE_NAMES else FEMALE_NAMES) if "ё" in n]
        src["first_name"] = self.rng.choice(yo_names)
        data["first_name"] = src["first_name"].replace("ё", "е")
