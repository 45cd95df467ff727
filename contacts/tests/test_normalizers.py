import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from validate_docbr import CNPJ, CPF

from contacts.normalizers import (
    fold,
    format_phone,
    format_phone_by_library,
    is_number_name,
    normalize_document,
    normalize_phone,
    normalize_telegram_id,
)

VALID_AREA_CODES = [11, 12, 13, 19, 21, 27, 31, 41, 47, 51, 61, 62, 71, 81, 85, 91, 98]


@pytest.mark.parametrize(
    "typed",
    [
        "+55 11 98765-4321",
        "+55 (11) 98765-4321",
        "55 11 98765 4321",
        "5511987654321",
        "(11) 98765-4321",
        "11987654321",
        "011 98765-4321",
        "0055 11 98765-4321",
        "+55 11 8765-4321",
        "551187654321",
        "(11) 8765-4321",
    ],
)
def test_it_stores_any_common_writing_of_a_mobile_as_the_same_canonical_number(typed):
    assert normalize_phone(typed) == "5511987654321"


def test_it_keeps_a_landline_without_a_ninth_digit():
    assert normalize_phone("(11) 3456-7890") == "551134567890"
    assert normalize_phone("+55 21 2345-6789") == "552123456789"


def test_it_accepts_foreign_numbers_with_their_country_code():
    assert normalize_phone("+351 912 345 678") == "351912345678"
    assert normalize_phone("+1 202 555 0123") == "12025550123"


@pytest.mark.parametrize("typed", ["12345", "98765-4321", "abc", "+55 11 1234", "+55 00 98765-4321", "11 98765-4321 ramal 2"])
def test_it_rejects_what_is_not_a_phone_number_and_shows_the_expected_form(typed):
    with pytest.raises(ValidationError) as error:
        normalize_phone(typed)
    assert "+55 11 98765-4321" in error.value.messages[0]


def test_it_formats_a_canonical_number_for_display():
    assert format_phone("5511987654321") == "+55 11 98765-4321"
    assert format_phone("551134567890") == "+55 11 3456-7890"


@given(
    ddd=st.sampled_from(VALID_AREA_CODES),
    subscriber=st.integers(min_value=0, max_value=10**8 - 1),
    style=st.sampled_from(["+55 {ddd} 9{a}-{b}", "({ddd}) 9{a}-{b}", "55{ddd}9{a}{b}", "0{ddd} 9{a} {b}", "+55 {ddd} {a}-{b}"]),
)
def test_every_writing_of_a_mobile_round_trips_through_display(ddd, subscriber, style):
    digits = f"{subscriber:08d}"
    if style == "+55 {ddd} {a}-{b}":
        # The old 8-digit form: only numbers starting with 6-9 were mobiles.
        digits = "9" + digits[1:]
    typed = style.format(ddd=ddd, a=digits[:4], b=digits[4:])
    canonical = normalize_phone(typed)
    assert canonical == f"55{ddd}9{digits}"
    assert normalize_phone(format_phone(canonical)) == canonical


@given(st.text(alphabet="0123456789", min_size=10, max_size=11) | st.sampled_from(["0" * 11, "9" * 11, "0000000000", "1" * 10]))
def test_the_fast_reading_of_stored_numbers_is_the_library_s(national):
    """Numbers as stored ("55" + national digits) skip phonenumbers.parse();
    the result must be the library's, valid or not."""
    digits = str(int(national))
    if len(digits) == 10 and digits[2] in "6789":
        digits = digits[:2] + "9" + digits[2:]  # the old 8-digit mobile
    number = phonenumbers.PhoneNumber(country_code=55, national_number=int(digits))
    expected = f"55{digits}" if phonenumbers.is_valid_number(number) else None
    for typed in ("55" + national, "+55" + national):
        try:
            assert normalize_phone(typed) == expected
        except ValidationError:
            assert expected is None


@given(st.text(alphabet="0123456789", min_size=8, max_size=13).map(lambda digits: "55" + digits) | st.text(alphabet="0123456789", max_size=15))
def test_a_stored_number_is_displayed_as_the_phone_library_writes_it(canonical):
    assert format_phone(canonical) == format_phone_by_library(canonical)


def test_every_brazilian_area_code_and_first_digits_are_displayed_as_the_phone_library_writes_them():
    """Each two-digit area code with each first two digits of the
    subscriber, in both lengths: every format and leading-digits rule the
    library has for +55 (four digits at most) is met."""
    numbers = [f"55{area:02d}{first:02d}{rest}" for area in range(100) for first in range(100) for rest in ("123456", "1234567")]
    assert [format_phone(number) for number in numbers] == [format_phone_by_library(number) for number in numbers]


@given(st.text(alphabet="0123456789", min_size=11, max_size=11) | st.sampled_from([d * 11 for d in "0123456789"]))
def test_the_cpf_check_is_validate_docbr_s(digits):
    try:
        stored = normalize_document(digits)
    except ValidationError:
        stored = None
    assert stored == (CPF().mask(digits) if CPF().validate(digits) else None)


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("529.982.247-25", "529.982.247-25"),
        ("52998224725", "529.982.247-25"),
        (" 529 982 247 25 ", "529.982.247-25"),
        ("11.222.333/0001-81", "11.222.333/0001-81"),
        ("11222333000181", "11.222.333/0001-81"),
        ("12.abc.345/01de-35", "12.ABC.345/01DE-35"),
    ],
)
def test_it_stores_cpf_and_cnpj_masked(typed, stored):
    assert normalize_document(typed) == stored


@pytest.mark.parametrize("typed", ["529.982.247-26", "111.111.111-11", "11.222.333/0001-82", "1234", "529.982.247-25x", "5299822472"])
def test_it_rejects_a_cpf_or_cnpj_with_a_wrong_check_digit_or_length(typed):
    with pytest.raises(ValidationError):
        normalize_document(typed)


@given(st.lists(st.integers(0, 9), min_size=9, max_size=9).filter(lambda d: len(set(d)) > 1))
def test_a_valid_cpf_round_trips_with_and_without_punctuation(base):
    cpf = CPF()
    digits = "".join(map(str, base))
    digits += cpf._generate_first_digit(list(digits))
    digits += cpf._generate_second_digit(list(digits))
    masked = normalize_document(digits)
    assert CPF().validate(masked)
    assert normalize_document(masked) == masked
    assert masked.replace(".", "").replace("-", "") == digits


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=12, max_size=12).filter(lambda s: len(set(s)) > 1))
def test_a_valid_alphanumeric_cnpj_round_trips(base):
    cnpj = CNPJ()
    doc = base + cnpj._generate_first_digit(base)
    doc += cnpj._generate_second_digit(doc)
    masked = normalize_document(doc.lower())
    assert masked == cnpj.mask(doc)
    assert normalize_document(masked) == masked


def test_fold_makes_names_accent_and_case_insensitive():
    assert fold("  JOÃO  da Conceição ") == "joao da conceicao"


def test_telegram_ids_are_integers():
    assert normalize_telegram_id(" 123456789 ") == "123456789"
    assert normalize_telegram_id("-1001234567890") == "-1001234567890"
    with pytest.raises(ValidationError):
        normalize_telegram_id("@joao")


PASTED = {
    "bidi marks": "\u202a+55 11 98765-4321\u202c",
    "left-to-right marks": "\u200e+55\u200e 11 98765\u200e-4321",
    "zero-width": "+55 11\u200b 98765\u200b-4321",
    "no-break spaces": "+55\u00a011\u00a098765\u20114321",
    "en dash": "+55 11 98765–4321",
    "em dash and BOM": "\ufeff(11) 98765—4321",
    "minus sign": "+55 11 98765−4321",
}


@pytest.mark.parametrize("pasted", PASTED.values(), ids=PASTED.keys())
def test_numbers_pasted_with_invisible_marks_and_typographic_dashes_are_accepted(pasted):
    assert normalize_phone(pasted) == "5511987654321"


def test_documents_and_telegram_ids_are_cleaned_the_same_way():
    assert normalize_document("\u200e529.982.247–25\u200f") == "529.982.247-25"
    assert normalize_document("11.222.333/0001‐81\u00a0") == "11.222.333/0001-81"
    assert normalize_telegram_id("\u2068123456789\u2069") == "123456789"
    assert normalize_telegram_id("−1001234567890") == "-1001234567890"


@pytest.mark.parametrize("written", ["D’Ávila", "D‘Ávila", "D´Ávila", "D`Ávila", "Dʼ\u200bÁvila"])
def test_typographic_apostrophes_fold_like_the_plain_one(written):
    assert fold(written) == fold("D'Ávila") == "d'avila"


def test_clean_text_keeps_what_names_need():
    from contacts.normalizers import clean_text

    family = "👨\u200d👩\u200d👧"
    assert clean_text(f"Ana\u00a0{family}\u200b – Loja") == f"Ana {family} – Loja"


@given(st.text(max_size=60))
def test_fold_and_clean_text_by_table_equal_the_plain_definitions(text):
    import unicodedata

    from contacts.normalizers import _APOSTROPHES, _INVISIBLE, clean_text

    expected_clean = "".join(
        " " if unicodedata.category(ch) == "Zs" or ch in "\t\n\r" else ch
        for ch in text.translate(_INVISIBLE)
        if unicodedata.category(ch) != "Cc" or ch in "\t\n\r\x00"
    )
    assert clean_text(text) == expected_clean
    decomposed = unicodedata.normalize("NFKD", expected_clean.translate(_APOSTROPHES))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    assert fold(text) == " ".join(stripped.casefold().split())


@given(st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P"]), max_size=20) | st.sampled_from(["Maria", "", " ", "5511 98765-4321", "², ³", "Loja 2", "١٢٣"]))
def test_a_name_is_a_number_when_it_has_digits_and_no_letter(name):
    assert is_number_name(name) == (any(ch.isdigit() for ch in name) and not any(ch.isalpha() for ch in name))
