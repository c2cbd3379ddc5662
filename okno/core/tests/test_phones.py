import pytest
from hypothesis import given
from hypothesis import strategies as st

from okno.core.phones import InvalidPhone, format_phone, normalize_phone

SAME = ["8 (916) 123-45-67", "+7 916 1234567", "9161234567", "8-916-123-45-67", "+7(916)123 45 67"]


@pytest.mark.parametrize("text", SAME)
def test_russian_formats_are_one_number(text):
    assert normalize_phone(text).e164 == "+79161234567"


@pytest.mark.parametrize("text,e164,ext", [
    ("+7 916 123-45-67 доб. 123", "+79161234567", "123"),
    ("8 495 123-45-67 ext. 12", "+74951234567", "12"),
    ("+375 29 123-45-67", "+375291234567", ""),
    ("+380 50 123 4567", "+380501234567", ""),
    ("+998 90 123 45 67", "+998901234567", ""),
    ("8 701 123 4567", "+77011234567", ""),
])
def test_extensions_and_neighbour_countries(text, e164, ext):
    phone = normalize_phone(text)
    assert (phone.e164, phone.extension) == (e164, ext)


@pytest.mark.parametrize("text", ["", "12", "abc", "+7 916 12"])
def test_invalid_numbers_are_refused(text):
    with pytest.raises(InvalidPhone):
        normalize_phone(text)


def test_display_form():
    assert format_phone("+79161234567") == "+7 916 123-45-67"
    assert format_phone("+79161234567", "5") == "+7 916 123-45-67 доб. 5"


@given(st.sampled_from(["916", "903", "925", "999"]), st.integers(0, 9_999_999),
       st.sampled_from(["+7 {c} {n}", "8 ({c}) {n}", "{c}{n}", "8-{c}-{n}", "+7({c}){n}"]))
def test_every_written_form_of_a_mobile_number_normalises_the_same(code, number, pattern):
    n = f"{number:07d}"
    spaced = f"{n[:3]}-{n[3:5]}-{n[5:]}"
    text = pattern.format(c=code, n=spaced if "-" in pattern or " " in pattern else n)
    assert normalize_phone(text).e164 == f"+7{code}{n}"


@given(st.text(max_size=30))
def test_any_text_either_normalises_or_raises_invalid_phone(text):
    try:
        phone = normalize_phone(text)
    except InvalidPhone:
        return
    assert phone.e164.startswith("+") and phone.e164[1:].isdigit()
