"""Russian company requisites: INN, KPP, OGRN/OGRNIP, BIK and bank accounts, with their check digits.

Each `check_*` takes the typed text (spaces and dashes allowed around digits) and returns the
clean value, or raises ValueError whose text is the reason for the user (English; pages show it
translated through okno.core.reasons). The algorithms are the Federal Tax Service's (INN, OGRN)
and the Central Bank's (the account key, Положение ЦБ РФ № 579-П, приложение).
"""

import re

# Reasons; also listed in okno.core.reasons.KNOWN_REASONS for translation.
INN_LENGTH = "must be 10 digits (a company) or 12 digits (an individual entrepreneur)"
INN_CHECK = "wrong check digit: not a valid INN"
KPP_FORMAT = "must be 9 characters: 4 digits, 2 digits or capital Latin letters, 3 digits"
KPP_FOR_IP = "an individual entrepreneur (12-digit INN) has no KPP"
OGRN_LENGTH = "must be 13 digits (OGRN) or 15 digits (OGRNIP)"
OGRN_CHECK = "wrong check digit: not a valid OGRN"
OGRN_KIND = "a 13-digit OGRN goes with a 10-digit INN, a 15-digit OGRNIP with a 12-digit INN"
BIK_FORMAT = "must be 9 digits"
ACCOUNT_FORMAT = "must be 20 digits"
ACCOUNT_NEEDS_BIK = "give the bank's BIK to check the account"
ACCOUNT_CHECK = "does not match the BIK: wrong account or BIK"

REASONS = [INN_LENGTH, INN_CHECK, KPP_FORMAT, KPP_FOR_IP, OGRN_LENGTH, OGRN_CHECK, OGRN_KIND, BIK_FORMAT,
           ACCOUNT_FORMAT, ACCOUNT_NEEDS_BIK, ACCOUNT_CHECK]

_SEPARATORS = re.compile(r"[\s\-]")
_KPP = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")


def _digits(raw: str) -> str:
    return _SEPARATORS.sub("", raw or "")


def _weighted(digits: str, weights: list[int]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def check_inn(raw: str) -> str:
    inn = _digits(raw)
    if not inn.isdigit() or len(inn) not in (10, 12):
        raise ValueError(INN_LENGTH)
    if len(inn) == 10:
        ok = _weighted(inn, [2, 4, 10, 3, 5, 9, 4, 6, 8]) == int(inn[9])
    else:
        ok = (_weighted(inn, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == int(inn[10])
              and _weighted(inn, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == int(inn[11]))
    if not ok:
        raise ValueError(INN_CHECK)
    return inn


def check_kpp(raw: str) -> str:
    kpp = _digits(raw).upper()
    if not _KPP.match(kpp):
        raise ValueError(KPP_FORMAT)
    return kpp


def check_ogrn(raw: str) -> str:
    """OGRN (13 digits: the first 12 mod 11, last digit) or OGRNIP (15: the first 14 mod 13)."""
    ogrn = _digits(raw)
    if not ogrn.isdigit() or len(ogrn) not in (13, 15):
        raise ValueError(OGRN_LENGTH)
    modulus = 11 if len(ogrn) == 13 else 13
    if int(ogrn[:-1]) % modulus % 10 != int(ogrn[-1]):
        raise ValueError(OGRN_CHECK)
    return ogrn


def check_bik(raw: str) -> str:
    bik = _digits(raw)
    if not bik.isdigit() or len(bik) != 9:
        raise ValueError(BIK_FORMAT)
    return bik


def _account_format(raw: str) -> str:
    account = _digits(raw)
    if not account.isdigit() or len(account) != 20:
        raise ValueError(ACCOUNT_FORMAT)
    return account


def _key_ok(prefix: str, account: str) -> bool:
    """The Central Bank's key: weights 7,1,3 over 23 digits; the sum of the products' last digits ends in 0."""
    digits = prefix + account
    weights = [7, 1, 3] * 8
    return sum(int(d) * w % 10 for d, w in zip(digits, weights, strict=False)) % 10 == 0


def check_settlement_account(raw: str, bik: str) -> str:
    """A settlement account (расчётный счёт) checked with the BIK's last three digits.

    An account in a cash settlement centre of the Bank of Russia (BIK ending in 000, 001 or
    002) is keyed with "0" and the BIK's 5th and 6th digits instead."""
    account = _account_format(raw)
    if not bik:
        raise ValueError(ACCOUNT_NEEDS_BIK)
    prefix = "0" + bik[4:6] if bik[6:] in ("000", "001", "002") else bik[6:]
    if not _key_ok(prefix, account):
        raise ValueError(ACCOUNT_CHECK)
    return account


def check_correspondent_account(raw: str, bik: str) -> str:
    """A bank's correspondent account, keyed with "0" and the BIK's 5th and 6th digits."""
    account = _account_format(raw)
    if not bik:
        raise ValueError(ACCOUNT_NEEDS_BIK)
    if not _key_ok("0" + bik[4:6], account):
        raise ValueError(ACCOUNT_CHECK)
    return account


def with_check_digit_inn10(first9: str) -> str:
    """For demo data and tests: a 10-digit INN completed with its check digit."""
    return first9 + str(_weighted(first9, [2, 4, 10, 3, 5, 9, 4, 6, 8]))


def with_check_digit_inn12(first10: str) -> str:
    eleven = first10 + str(_weighted(first10, [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]))
    return eleven + str(_weighted(eleven, [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]))


def with_check_digit_ogrn(body: str) -> str:
    """12 digits -> OGRN, 14 digits -> OGRNIP."""
    return body + str(int(body) % (11 if len(body) == 12 else 13) % 10)


def with_key_account(bik: str, account_without_key: str, *, correspondent: bool = False) -> str:
    """A 20-digit account whose 9th digit (the key) is set so that it checks against the BIK."""
    prefix = "0" + bik[4:6] if correspondent or bik[6:] in ("000", "001", "002") else bik[6:]
    for key in "0123456789":
        account = account_without_key[:8] + key + account_without_key[9:20]
        if _key_ok(prefix, account):
            return account
    raise AssertionError("no key digit fits")  # cannot happen: the key's weight is 3, coprime to 10
