"""A small invented evaluation set, guarding that the identity rules generalise.

Pairs of cards of each kind issue 14 names, and of the kinds the first duplicate rules were
built for, generated from invented name lists (no record of any real or shared data set):
the background scan must store every labelled pair and nothing else (precision and recall
1.00), and the hard non-duplicates must stay out of the stored pairs.
"""

import random

from okno.contacts.duplicates import duplicates_scan
from okno.contacts.models import DuplicatePair
from okno.contacts.tests.factories import make_contact

PER_KIND = 6
MEN = ["Тимофей", "Всеволод", "Ренат", "Глеб", "Аркадий", "Матвей", "Ярослав", "Эдуард", "Леонид", "Филипп"]
WOMEN = ["Зарина", "Вероника", "Оксана", "Нина", "Фаина", "Олеся", "Злата", "Регина", "Лидия", "Таисия"]
# Invented surnames: two syllables and a Russian ending, one per person (and some with ё).
SYLLABLES = (["Кар", "Лу", "Мет", "Зор", "Бел", "Гри", "Сол", "Тар", "Вол", "Дер", "Пёт", "Ряб"],
             ["ан", "ел", "ом", "ыш", "ун", "яг", "ес", "ор", "ач", "уз", "ёл", "им"])
ENDINGS = ["ов", "ин", "ев"]
PATRONYMICS = {"m": ["Ильич", "Олегович", "Тимурович", "Степанович"], "f": ["Ильинична", "Олеговна", "Глебовна"]}
SHORT = [("Александр", "Саша"), ("Дмитрий", "Дима"), ("Екатерина", "Катя"), ("Алексей", "Лёша"),
         ("Евгения", "Женя"), ("Михаил", "Миша"), ("Татьяна", "Таня"), ("Николай", "Коля"), ("Мария", "Маша"),
         ("Сергей", "Серёжа"), ("Анастасия", "Настя"), ("Владимир", "Вова")]
CITIES = ["Казань", "Тверь", "Самара", "Пермь", "Омск", "Калуга", "Вологда", "Тула"]
LATIN = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                 ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s",
                  "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"], strict=True))
FEMALE_SHORT = {"Екатерина", "Евгения", "Татьяна", "Мария", "Анастасия"}


def latin(text: str) -> str:
    out = "".join(LATIN.get(ch, ch) for ch in text.lower())
    return out[:1].upper() + out[1:]


class Book:
    """Invented people: unique surname + counter per person, unique numbers."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.n = 0

    def person(self, sex: str | None = None) -> dict:
        self.n += 1
        sex = sex or self.rng.choice("mf")
        first_syl, second_syl = SYLLABLES
        k = self.n * 37 % (len(first_syl) * len(second_syl) * len(ENDINGS))
        last = (first_syl[k % len(first_syl)] + second_syl[k // len(first_syl) % len(second_syl)]
                + ENDINGS[k // (len(first_syl) * len(second_syl))])
        return {"first": self.rng.choice(MEN if sex == "m" else WOMEN),
                "last": last if sex == "m" else last + "а", "sex": sex,
                "middle": self.rng.choice(PATRONYMICS[sex]), "city": self.rng.choice(CITIES),
                "company": f"Компания {self.n}", "mobile": f"+7926{1_000_000 + self.n * 7919:07d}",
                "landline": f"+7495{2_000_000 + self.n * 131:07d}"}


def card(**fields) -> int:
    fields.setdefault("last_name", "")  # the factory's default name would make namesakes
    return make_contact(**fields).pk


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(2, len(word) - 1)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def build(book: Book) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """(labelled duplicate pairs, labelled hard non-duplicate pairs), as (smaller id, larger id)."""
    rng = book.rng
    dups, hard = [], []
    for i in range(PER_KIND):
        # kinds of the first rules: another phone format, another e-mail case, typo / swap / Latin / ё with company
        p = book.person()
        d = p["mobile"][2:]
        formatted = f"8 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}"
        dups.append((card(first_name=p["first"], last_name=p["last"], phones=[p["mobile"]]),
                     card(first_name=p["first"], last_name=p["last"], phones=[formatted])))
        p = book.person()
        mail = f"{latin(p['first']).lower()}.{latin(p['last']).lower()}{i}@example-mail.ru"
        dups.append((card(first_name=p["first"], last_name=p["last"], emails=[mail]),
                     card(first_name=p["first"], last_name=_typo(p["last"], rng), emails=[mail.upper()])))
        p = book.person()
        dups.append((card(first_name=p["first"], last_name=p["last"], company=p["company"]),
                     card(first_name=p["first"], last_name=_typo(p["last"], rng), company=f"ООО «{p['company']}»")))
        p = book.person()
        dups.append((card(first_name=p["first"], last_name=p["last"], company=p["company"]),
                     card(first_name=p["last"], last_name=p["first"], company=p["company"])))
        p = book.person()
        dups.append((card(first_name=p["first"], last_name=p["last"], middle_name=p["middle"], company=p["company"]),
                     card(first_name=latin(p["first"]), last_name=latin(p["last"]), company=p["company"])))
        p = book.person()
        dups.append((card(first_name=p["first"], last_name=p["last"], company=p["company"]),
                     card(first_name=p["first"], last_name=p["last"].replace("ё", "е"), company=p["company"])))
        # issue 14: mailboxes
        p = book.person()
        login = f"{latin(p['first']).lower()}.{latin(p['last']).lower()}{i}"
        dups.append((card(first_name=p["first"], last_name=p["last"], emails=[f"{login}@gmail.com"]),
                     card(first_name=p["first"], last_name=p["last"],
                          emails=[f"{login.replace('.', '')}+crm@googlemail.com"])))
        p = book.person()
        dups.append((card(first_name=p["first"], last_name=p["last"], emails=[f"{login}.y@ya.ru"]),
                     card(first_name=p["first"], emails=[f"{login.replace('.', '-')}-y@yandex.kz"])))
        # short forms, at one company or with one mobile
        full, short = SHORT[i % len(SHORT)]
        p = book.person("f" if full in FEMALE_SHORT else "m")
        dups.append((card(first_name=full, last_name=p["last"], company=p["company"]),
                     card(first_name=short, last_name=p["last"], company=p["company"])))
        full, short = SHORT[(i + 5) % len(SHORT)]
        p = book.person("f" if full in FEMALE_SHORT else "m")
        dups.append((card(first_name=full, last_name=p["last"], phones=[p["mobile"]]),
                     card(first_name=short, last_name=p["last"], phones=[p["mobile"]])))
        # a whole name in one field
        p = book.person()
        dups.append((card(first_name=p["first"], last_name=p["last"], middle_name=p["middle"], company=p["company"]),
                     card(first_name=f"{p['last']} {p['first']} {p['middle']}", last_name="",
                          company=p["company"])))
        # a landline with agreeing names; a phone one digit off with the same name and city
        p = book.person()
        dups.append((card(first_name=p["first"], last_name=p["last"], phones=[p["landline"]]),
                     card(first_name=p["first"], last_name=p["last"], middle_name=p["middle"],
                          phones=["8" + p["landline"][2:]])))
        p = book.person()
        off = p["mobile"][:-1] + str((int(p["mobile"][-1]) + 3) % 10)
        dups.append((card(first_name=p["first"], last_name=p["last"], city=p["city"], phones=[p["mobile"]]),
                     card(first_name=p["first"], last_name=p["last"], city=p["city"], phones=[off])))

        # hard non-duplicates: colleagues on an office line, a family's home phone, a father and son
        p, q = book.person(), book.person()
        hard.append((card(first_name=p["first"], last_name=p["last"], company=p["company"], phones=[p["landline"]]),
                     card(first_name=q["first"], last_name=q["last"], company=p["company"], phones=[p["landline"]])))
        p = book.person("m")
        hard.append((card(first_name=p["first"], last_name=p["last"], phones=[p["landline"]]),
                     card(first_name=WOMEN[i], last_name=p["last"] + "а", phones=[p["landline"]])))
        p = book.person("m")
        hard.append((card(first_name=p["first"], last_name=p["last"], middle_name="Ильич", phones=[p["landline"]]),
                     card(first_name=p["first"], last_name=p["last"], middle_name=f"{p['first']}ович",
                          phones=[p["landline"]])))
        # namesakes in one city; a namesake a digit off in another city; one login at mail.ru and bk.ru
        p, q = book.person(), book.person()
        hard.append((card(first_name=p["first"], last_name=p["last"], city=p["city"], phones=[p["mobile"]]),
                     card(first_name=p["first"], last_name=p["last"], city=p["city"], phones=[q["mobile"]])))
        p = book.person()
        other_city = CITIES[(CITIES.index(p["city"]) + 1) % len(CITIES)]
        hard.append((card(first_name=p["first"], last_name=p["last"], city=p["city"], phones=[p["mobile"]]),
                     card(first_name=p["first"], last_name=p["last"], city=other_city,
                          phones=[p["mobile"][:-1] + str((int(p["mobile"][-1]) + 1) % 10)])))
        p, q = book.person(), book.person()
        box = f"{latin(p['last']).lower()}{i}"
        hard.append((card(first_name=p["first"], last_name=p["last"], emails=[f"{box}@mail.ru"]),
                     card(first_name=q["first"], last_name=q["last"], emails=[f"{box}@bk.ru"])))
        # a short form with another surname at one company; Александр and Александра at one company
        p, q = book.person("m"), book.person("m")
        hard.append((card(first_name="Дмитрий", last_name=p["last"], company=p["company"]),
                     card(first_name="Дима", last_name=q["last"], company=p["company"])))
        p = book.person("m")
        hard.append((card(first_name="Александр", last_name=p["last"], company=p["company"]),
                     card(first_name="Саша", last_name=p["last"] + "а", company=p["company"])))
    norm = lambda pairs: {(min(a, b), max(a, b)) for a, b in pairs}  # noqa: E731
    return norm(dups), norm(hard)


def test_invented_set_precision_and_recall_are_one(db):
    # given an invented base of labelled duplicates and hard non-duplicates
    dups, hard = build(Book(seed=14))
    # when the background scan runs
    duplicates_scan()
    # then it stores every labelled duplicate and nothing else
    found = set(DuplicatePair.objects.values_list("contact_a", "contact_b"))
    true_positive = len(found & dups)
    precision, recall = true_positive / len(found), true_positive / len(dups)
    assert not found & hard, sorted(found & hard)
    assert (precision, recall) == (1.0, 1.0), (sorted(found - dups), sorted(dups - found))
