"""What the demo company sells and says: products, B2B positions, lost reasons, message texts.

No database here. Prices are Decimal roubles; every line item is a snapshot (name, SKU,
quantity, price), as the store sends it: Okno keeps no product catalogue.
"""

import random
from decimal import Decimal

# (name, SKU, price in roubles): an online store of household appliances and electronics.
STORE_PRODUCTS = [
    ("Пылесос беспроводной Dyson V15 Detect Absolute", "DYS-V15-DA", "64990"),
    ("Робот-пылесос Xiaomi Robot Vacuum S10+", "XMI-RV-S10P", "42990"),
    ("Чайник электрический Xiaomi Mi Smart Kettle Pro", "XMI-KTL-PRO", "4490"),
    ("Кофемашина De'Longhi Magnifica S ECAM22.110.B", "DLG-ECAM22110", "36990"),
    ("Капсулы Nespresso Ispirazione Roma, 10 шт.", "NSP-ROMA-10", "690"),
    ("Микроволновая печь Samsung MS23K3614AW", "SAM-MS23K3614", "9990"),
    ("Холодильник Атлант ХМ 4624-101", "ATL-4624-101", "38490"),
    ("Стиральная машина LG F2J3WS2W, 6,5 кг", "LG-F2J3WS2W", "32990"),
    ("Посудомоечная машина Bosch SPS2IKW04E", "BSH-SPS2IKW04E", "35990"),
    ("Телевизор Samsung UE55CU7100U, 55\"", "SAM-UE55CU7100", "47990"),
    ("Телевизор Яндекс ТВ Станция Про, 65\"", "YND-TVS-PRO65", "69990"),
    ("Умная колонка Яндекс Станция Лайт 2", "YND-STL2", "7990"),
    ("Смартфон Apple iPhone 15, 128 ГБ, чёрный", "APL-IP15-128-BK", "79990"),
    ("Смартфон Samsung Galaxy A55, 8/256 ГБ", "SAM-A55-256", "37990"),
    ("Смартфон Xiaomi Redmi Note 13, 8/256 ГБ", "XMI-RN13-256", "21990"),
    ("Наушники Apple AirPods Pro (2-го поколения)", "APL-APP2", "24990"),
    ("Наушники Sony WH-1000XM5, чёрные", "SNY-WH1000XM5", "34990"),
    ("Ноутбук ASUS Vivobook 15 X1504ZA, i5/16/512", "ASU-X1504ZA", "56990"),
    ("Ноутбук Apple MacBook Air 13 M2, 8/256 ГБ", "APL-MBA13-M2", "99990"),
    ("Планшет Samsung Galaxy Tab S9 FE, 128 ГБ", "SAM-TABS9FE", "39990"),
    ("Монитор Xiaomi Mi Desktop Monitor 27\"", "XMI-MON27", "14990"),
    ("Мультиварка Redmond RMC-M90", "RDM-RMC-M90", "5490"),
    ("Блендер погружной Philips HR2657/90", "PHL-HR2657", "7490"),
    ("Утюг Tefal FV6842E0 Ultragliss", "TFL-FV6842", "6990"),
    ("Фен Dyson Supersonic HD07", "DYS-HD07", "49990"),
    ("Электрическая зубная щётка Oral-B Pro 3", "ORB-PRO3", "4990"),
    ("Кондиционер Haier HSU-09HPL103/R3", "HAI-HSU09", "29990"),
    ("Обогреватель масляный Ballu BOH/CL-09", "BAL-BOHCL09", "4290"),
    ("Увлажнитель воздуха Xiaomi Smart Humidifier 2", "XMI-HUM2", "6490"),
    ("Варочная панель Gorenje GI6401BSC", "GOR-GI6401", "21990"),
    ("Духовой шкаф Weissgauff EOM 180 W", "WSG-EOM180W", "18990"),
    ("Кабель USB-C — Lightning, 1 м", "CBL-USBC-LTN", "990"),
    ("Чехол для iPhone 15, силикон", "CSE-IP15-SIL", "1490"),
    ("Защитное стекло для смартфона", "GLS-UNI", "590"),
    ("Удлинитель сетевой Pilot X-Pro, 5 м", "PLT-XPRO-5", "1890"),
]
ACCESSORIES = ("CBL-USBC-LTN", "CSE-IP15-SIL", "GLS-UNI", "PLT-XPRO-5", "NSP-ROMA-10")
DELIVERY = [("Доставка курьером", "DLV-COURIER", "390"), ("Доставка в пункт выдачи СДЭК", "DLV-CDEK", "290"),
            ("Подъём на этаж", "DLV-LIFT", "500")]
DELIVERY_METHODS = ["Курьер", "СДЭК", "Самовывоз", "Почта России"]
# Delivery addresses and buyers' comments of the store's orders: the board's quick fields show them.
DELIVERY_STREETS = ["ул. Тверская", "Ленинский пр-т", "ул. Профсоюзная", "Варшавское ш.", "ул. Бутырская",
                    "Кутузовский пр-т", "ул. Маросейка", "Щёлковское ш.", "ул. Новослободская", "Мичуринский пр-т"]
ORDER_COMMENTS = ["", "", "Позвонить за час до доставки", "Подъезд со двора, домофон 45", "После 18:00",
                  "Упаковать как подарок", "Оставить у консьержа", ""]


def delivery_address(rng) -> str:
    return f"Москва, {rng.choice(DELIVERY_STREETS)}, д. {rng.randint(1, 120)}, кв. {rng.randint(1, 300)}"
STORE_SOURCES = [("Сайт", 60), ("Яндекс Маркет", 15), ("Звонок", 12), ("Jivo", 8), ("Авито", 5)]

# (name, SKU, price, typical quantity range): what the B2B department supplies to offices.
B2B_POSITIONS = [
    ("Стол офисный 1400×700, бук", "OF-DSK-1407-BK", "8900", (10, 60)),
    ("Кресло офисное «Бюрократ CH-868»", "OF-CHR-868", "6490", (10, 60)),
    ("Кресло руководителя «Метта L1m 42»", "OF-CHR-L1M42", "24990", (1, 5)),
    ("Шкаф для документов ШД-4, 800×400×1950", "OF-CAB-SHD4", "12900", (2, 20)),
    ("Тумба мобильная, 3 ящика", "OF-PED-3", "5990", (10, 60)),
    ("Перегородка офисная 1600×1200", "OF-SCR-1612", "7400", (5, 40)),
    ("Стол переговорный 2400×1200", "OF-MTG-2412", "38900", (1, 3)),
    ("Ноутбук Lenovo ThinkPad E16 Gen 1, i5/16/512", "IT-LNV-E16", "89900", (5, 40)),
    ("Монитор Dell P2423D, 24\"", "IT-DEL-P2423D", "24900", (5, 60)),
    ("МФУ лазерное Pantum M7100DW", "IT-PNT-M7100", "23900", (1, 10)),
    ("Картридж Pantum TL-420X", "IT-PNT-TL420X", "3900", (10, 100)),
    ("Бумага офисная SvetoCopy A4, 500 л.", "PP-SVC-A4", "459", (50, 500)),
    ("Кулер для воды Aqua Work 16LD", "OF-CLR-16LD", "8990", (1, 10)),
    ("Сборка и монтаж мебели", "SV-ASM", "45000", (1, 1)),
    ("Доставка по Москве (грузовой автомобиль)", "SV-DLV-MSK", "6500", (1, 3)),
]
B2B_SUBJECTS = ["офисная мебель", "оснащение переговорной", "ноутбуки для отдела продаж", "мониторы и МФУ",
                "расходные материалы на квартал", "мебель для нового офиса", "рабочие места для колл-центра"]
B2B_SOURCES = [("Рекомендация", 30), ("Выставка", 20), ("Холодный звонок", 20), ("Сайт", 20), ("Тендер", 10)]

LOST_REASONS = ["Дорого", "Выбрали конкурента", "Не отвечает", "Нет в наличии", "Долгая доставка",
                "Передумал", "Дубль заказа"]
# Which reasons a cancelled order and a lost B2B deal mostly give (weights).
STORE_LOST = [("Не отвечает", 30), ("Передумал", 20), ("Нет в наличии", 15), ("Долгая доставка", 12),
              ("Дорого", 10), ("Дубль заказа", 8), ("Выбрали конкурента", 5)]
B2B_LOST = [("Дорого", 35), ("Выбрали конкурента", 35), ("Не отвечает", 20), ("Нет в наличии", 10)]

SMS_ORDER_ACCEPTED = ("Здравствуйте, {{ contact.first_name }}! Заказ {{ deal.external_id }} на сумму "
                      "{{ deal.amount }} ₽ принят. Менеджер позвонит в течение 30 минут.")
EMAIL_CONFIRMED_SUBJECT = "Заказ {{ deal.external_id }} подтверждён"
EMAIL_CONFIRMED_BODY = (
    "Здравствуйте, {{ contact.first_name }}!\n\n"
    "Ваш заказ {{ deal.external_id }} подтверждён. Сумма: {{ deal.amount }} ₽.\n"
    "{% if deal.custom.delivery_date %}Дата доставки: {{ deal.custom.delivery_date }}.\n{% endif %}"
    "Ваш менеджер: {{ deal.responsible }}.\n\nСпасибо, что выбрали нас!"
)
EMAIL_PROPOSAL_SUBJECT = "Коммерческое предложение: {{ deal.title }}"
EMAIL_PROPOSAL_BODY = (
    "Здравствуйте, {{ contact.first_name }}!\n\n"
    "Направляем коммерческое предложение{% if company.name %} для {{ company.name }}{% endif %} "
    "на сумму {{ deal.amount }} ₽. Готовы обсудить условия поставки и оплаты.\n\n"
    "С уважением, {{ deal.responsible }}"
)


def weighted(rng: random.Random, pairs: list[tuple]) -> object:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def store_lines(rng: random.Random) -> list[dict]:
    """One order's lines: a main product or two, maybe an accessory, often a delivery."""
    main = [p for p in STORE_PRODUCTS if p[1] not in ACCESSORIES]
    lines = []
    for name, sku, price in rng.sample(main, rng.choice([1, 1, 1, 1, 2, 2, 3])):
        lines.append({"name": name, "sku": sku, "quantity": Decimal(rng.choice([1, 1, 1, 1, 2])),
                      "price": Decimal(price)})
    if rng.random() < 0.3:
        name, sku, price = rng.choice([p for p in STORE_PRODUCTS if p[1] in ACCESSORIES])
        lines.append({"name": name, "sku": sku, "quantity": Decimal(rng.choice([1, 1, 2])), "price": Decimal(price)})
    if rng.random() < 0.7:
        name, sku, price = rng.choice(DELIVERY)
        lines.append({"name": name, "sku": sku, "quantity": Decimal(1), "price": Decimal(price)})
    return lines


def b2b_lines(rng: random.Random) -> list[dict]:
    lines = []
    for name, sku, price, (low, high) in rng.sample(B2B_POSITIONS, rng.randint(2, 5)):
        quantity = rng.randint(low, high)
        if quantity > 10:
            quantity = round(quantity, -1) or 10
        # Wholesale: a discount of 0-12 % off the list price, whole roubles.
        discounted = (Decimal(price) * (Decimal(100 - rng.choice([0, 0, 3, 5, 7, 10, 12])) / 100)).quantize(Decimal(1))
        lines.append({"name": name, "sku": sku, "quantity": Decimal(quantity), "price": discounted})
    return lines


def lines_total(lines: list[dict]) -> Decimal:
    return sum(((line["quantity"] * line["price"]).quantize(Decimal("0.01")) for line in lines), Decimal("0.00"))
