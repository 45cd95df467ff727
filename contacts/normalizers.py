"""Normalisers shared by every writer: forms, admin, importers and webhooks.

Each one takes what a person or a provider typed and returns the canonical
stored form, or raises ValidationError with a message that shows the
expected form.
"""

import functools
import re
import unicodedata
from operator import mul

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from validate_docbr import CNPJ

PHONE_EXAMPLE = "+55 11 98765-4321"
_PHONE_CHARS = re.compile(r"^[\d\s()+\-./]+$")
_DOCUMENT_CHARS = re.compile(r"^[0-9A-Za-z.\-/\s]+$")
# What a document's mask adds, and every space \s matches (the last, U+3000).
_DOCUMENT_PUNCTUATION = dict.fromkeys([*map(ord, ".-/"), *(c for c in range(0x3001) if chr(c).isspace())])


# Pasted from WhatsApp, browsers and phones: direction marks, zero-width
# characters and the BOM ride along invisibly. ZWJ/ZWNJ stay: emoji and
# some scripts need them.
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x061C, 0x180E, 0x200B, 0x200E, 0x200F, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xFEFF]
    + list(range(0x202A, 0x202F))
    + list(range(0x2066, 0x206A))
)
# Typographic apostrophes (and the acute and grave accents typed as one)
# search the same as the plain one: "D’Ávila" is "D'Ávila".
_APOSTROPHES = dict.fromkeys(map(ord, "’‘´`ʼ′‛"), "'")


class _CleanTable(dict):
    """str.translate() table for clean_text(), filled as characters are
    met: an import cleans a million cells, and a per-character loop in
    Python was most of its time."""

    def __missing__(self, code: int):
        ch = chr(code)
        if code in _INVISIBLE or (unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\x00"):
            result = None
        elif unicodedata.category(ch) == "Zs" or ch in "\t\n\r":
            result = " "
        else:
            result = code
        self[code] = result
        return result


class _FoldTable(dict):
    """str.translate() table for fold(): each character decomposed (NFKD),
    its accents dropped, case-folded. Per character is the same as per
    string here, since the combining marks that NFKD would reorder are all
    dropped."""

    def __missing__(self, code: int):
        decomposed = unicodedata.normalize("NFKD", chr(code))
        folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
        self[code] = folded
        return folded


_CLEAN_TABLE = _CleanTable()
_FOLD_TABLE = _FoldTable()


def clean_text(text: str) -> str:
    """Free text as a person meant it: invisible marks and control
    characters removed (tabs and line breaks become spaces), every kind of
    space a plain space. Dashes and quotes stay as typed. NUL stays, for
    the forms' validators to refuse: it is never a typing slip."""
    if text.isascii() and text.isprintable():
        return text  # nothing invisible, no odd space: most of what is typed
    return text.translate(_CLEAN_TABLE)


def clean_code(text: str) -> str:
    """A phone, document, id or e-mail as typed or pasted: clean_text(), no
    format characters at all, every dash (and the minus sign) a hyphen."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        "-" if unicodedata.category(ch) == "Pd" or ch == "\u2212" else ch
        for ch in clean_text(text)
        if unicodedata.category(ch) != "Cf"
    )


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced text for searching and sorting:
    "  JOÃO  da Silva" -> "joao da silva"."""
    if text.isascii():
        # No accents to take off; only the apostrophes (` is ASCII).
        return " ".join(clean_text(text).replace("`", "'").lower().split())
    return " ".join(clean_text(text).translate(_APOSTROPHES).translate(_FOLD_TABLE).split())


def only_digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _invalid_phone() -> ValidationError:
    return ValidationError(
        _("Enter a valid phone number: country code (DDI) + area code (DDD) + number, like %(example)s."),
        code="invalid_phone",
        params={"example": PHONE_EXAMPLE},
    )


def _parse_phone(raw: str) -> phonenumbers.PhoneNumber:
    digits = only_digits(raw)
    candidates = []
    if raw.startswith("+"):
        candidates.append("+" + digits)
    elif digits.startswith("00"):
        candidates.append("+" + digits[2:])
    else:
        # Brazilian numbers are typed both with and without the country code
        # and the "+"; try the national reading first when the length fits it.
        if len(digits) in (10, 11):
            candidates.append(digits)
        candidates.append("+" + digits)
        if len(digits) in (12, 13) and digits.startswith("0"):
            candidates.append(digits)
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, "BR")
        except phonenumbers.NumberParseException:
            continue
        number = _add_ninth_digit(number)
        if phonenumbers.is_valid_number(number):
            return number
    raise _invalid_phone()


def _canonical_brazilian(raw: str) -> str | None:
    """"5511987654321" or "+5511987654321" (as stored, as exported): the
    canonical digits parse() would give, without parse()'s cost, which is
    most of an import's. None for any other writing."""
    digits = raw[1:] if raw.startswith("+") else raw
    if not (digits.isdigit() and digits.isascii() and len(digits) in (12, 13) and digits.startswith("55")):
        return None
    national = str(int(digits[2:]))  # as a PhoneNumber holds it: leading zeros dropped
    if len(national) == 10 and national[2] in "6789":
        national = national[:2] + "9" + national[2:]  # as _add_ninth_digit()
    valid = _brazilian_validity(len(national))
    return "55" + national if valid is not None and valid.fullmatch(national) else None


@functools.cache
def _brazilian_validity(length: int) -> re.Pattern | None:
    """phonenumbers.is_valid_number() for a +55 number of `length`
    national digits, as one regular expression made from the library's own
    metadata: valid is the general description and one number type's (see
    phonenumbers' _number_type_helper), each with its lengths. Calling the
    library tries the types one by one, for every number (see
    benchmarks/README.md)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("BR")

    def fits(desc) -> bool:
        return bool(desc and desc.national_number_pattern) and (not desc.possible_length or length in desc.possible_length)

    types = [
        desc.national_number_pattern
        for desc in (
            metadata.premium_rate,
            metadata.toll_free,
            metadata.shared_cost,
            metadata.voip,
            metadata.personal_number,
            metadata.pager,
            metadata.uan,
            metadata.voicemail,
            metadata.fixed_line,
            metadata.mobile,
        )
        if fits(desc)
    ]
    if not fits(metadata.general_desc) or not types:
        return None
    general = metadata.general_desc.national_number_pattern
    return re.compile(f"(?=(?:{general})\\Z)(?:{'|'.join(f'(?:{pattern})' for pattern in types)})")


def _format_brazilian(canonical: str) -> str:
    """format_phone() of a valid +55 number as stored, without parsing it
    into the library's object: the format the library would choose, taken
    from its own metadata as it chooses it (the first whose leading digits
    and pattern fit). "" for anything else. A list page writes 25 numbers,
    and the library's parse and format took about 0.1 ms each (see
    benchmarks/README.md)."""
    if not (12 <= len(canonical) <= 13 and canonical.startswith("55") and canonical.isascii() and canonical.isdigit()):
        return ""
    national = canonical[2:]
    valid = _brazilian_validity(len(national))
    if national[0] == "0" or valid is None or not valid.fullmatch(national):
        return ""
    for leading, pattern, rule in _brazilian_formats():
        if (leading is None or leading.match(national)) and (match := pattern.fullmatch(national)):
            return "+55 " + match.expand(rule)
    return ""


@functools.cache
def _brazilian_formats() -> list[tuple[re.Pattern | None, re.Pattern, str]]:
    """The library's international formats for +55: (the most detailed
    leading-digits pattern, the number's pattern, the format)."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("BR")
    return [
        (re.compile(form.leading_digits_pattern[-1]) if form.leading_digits_pattern else None, re.compile(form.pattern), form.format)
        for form in (metadata.intl_number_format or metadata.number_format)
    ]


def _add_ninth_digit(number: phonenumbers.PhoneNumber) -> phonenumbers.PhoneNumber:
    # Brazil put a 9 in front of every mobile number (2012-2016). An 8-digit
    # subscriber number starting with 6-9 is an old-format mobile: the same
    # line as the 9-digit one. 2-5 are landlines and stay as they are.
    if number.country_code != 55:
        return number
    national = str(number.national_number)
    if len(national) == 10 and national[2] in "6789":
        return phonenumbers.PhoneNumber(
            country_code=55, national_number=int(national[:2] + "9" + national[2:])
        )
    return number


def normalize_phone(raw: str) -> str:
    """Canonical digits: country code + area code + subscriber ("5511987654321")."""
    raw = clean_code(raw or "").strip()
    if canonical := _canonical_brazilian(raw):
        return canonical
    if not raw:
        return ""
    if not _PHONE_CHARS.match(raw) or len(only_digits(raw)) < 8:
        raise _invalid_phone()
    number = _parse_phone(raw)
    return f"{number.country_code}{number.national_number}"


def format_phone(canonical: str) -> str:
    """"5511987654321" -> "+55 11 98765-4321"; anything unparseable as is."""
    if not canonical:
        return ""
    return _format_brazilian(canonical) or format_phone_by_library(canonical)


def format_phone_by_library(canonical: str) -> str:
    """format_phone() as the phone library writes it: any number, by
    parsing it (what _format_brazilian saves a valid +55 number)."""
    try:
        number = phonenumbers.parse("+" + canonical, None)
    except phonenumbers.NumberParseException:
        return canonical
    return format_old_brazilian_mobile(number) or phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def normalize_document(raw: str) -> str:
    """A CPF or CNPJ (numeric or the new alphanumeric one), masked:
    "529.982.247-25", "11.222.333/0001-81"."""
    raw = clean_code(raw or "").strip()
    if not raw:
        return ""
    if _DOCUMENT_CHARS.match(raw):
        compact = raw.translate(_DOCUMENT_PUNCTUATION).upper()
        if len(compact) == 11 and compact.isdigit() and _valid_cpf(compact):
            return f"{compact[:3]}.{compact[3:6]}.{compact[6:9]}-{compact[9:]}"
        if len(compact) == 14 and compact[-2:].isdigit() and CNPJ().validate(compact):
            return CNPJ().mask(compact)
    # Made only when raised: an error refers to itself, a cycle that only the
    # garbage collector frees, for each of an import's hundred thousand values.
    raise ValidationError(
        _("Enter a valid CPF (like 529.982.247-25) or CNPJ (like 11.222.333/0001-81)."),
        code="invalid_document",
    )


def _valid_cpf(digits: str) -> bool:
    """validate_docbr's CPF().validate() for 11 ASCII digits (what
    normalize_document() hands it), without its lists and objects per call:
    not one digit repeated, and both check digits right."""
    if digits == digits[0] * 11:
        return False
    numbers = list(map(int, digits))
    first = sum(map(mul, numbers, _CPF_FIRST_WEIGHTS)) * 10 % 11 % 10
    second = sum(map(mul, numbers, _CPF_SECOND_WEIGHTS)) * 10 % 11 % 10
    return numbers[9] == first and numbers[10] == second


# The weights of the nine and ten digits before each check digit.
_CPF_FIRST_WEIGHTS = tuple(range(10, 1, -1))
_CPF_SECOND_WEIGHTS = tuple(range(11, 1, -1))


TELEGRAM_ID_LIMIT = 2**63  # ids are 64-bit integers (52 bits used today)


def normalize_telegram_id(raw: str) -> str:
    """Telegram ids are integers (groups and channels negative), stored in
    one canonical writing: ASCII digits, no leading zeros, no "-0"; so
    "0123", "１２３" and "123" are the same id."""
    raw = clean_code(raw or "").strip()
    if not raw:
        return ""
    # \d also matches other scripts' decimal digits; int() reads them all.
    if re.fullmatch(r"-?\d{1,25}", raw) and -TELEGRAM_ID_LIMIT < int(raw) < TELEGRAM_ID_LIMIT:
        return str(int(raw))
    raise ValidationError(_("Enter the numeric Telegram id, like 123456789."), code="invalid_telegram_id")


def looks_like_phone(text: str) -> bool:
    """True for text made of digits and phone punctuation only."""
    return bool(_PHONE_CHARS.match(text)) and any(ch.isdigit() for ch in text)


def is_number_name(name: str) -> bool:
    """A contact named only by a number (a phone, a chat id: what the
    conversations give a sender without a profile name): digits, no letter."""
    if name.replace(" ", "").isalpha():
        return False  # letters alone, most names: one pass in C instead of two in Python
    return any(ch.isdigit() for ch in name) and not any(ch.isalpha() for ch in name)


def format_old_brazilian_mobile(number: phonenumbers.PhoneNumber) -> str:
    """An old 8-digit Brazilian number ("+55 11 8765-4321"), which the phone
    library no longer recognises and would leave as "+55 1187654321"; ""
    for any other number."""
    national = str(number.national_number)
    if number.country_code != 55 or len(national) != 10 or phonenumbers.is_valid_number(number):
        return ""
    return f"+55 {national[:2]} {national[2:6]}-{national[6:]}"


def document_search_key(document: str) -> str:
    """A stored CPF/CNPJ as the search finds it from any part: its digits
    (and letters, lower-case) without the mask ("52998224725")."""
    return document.translate(_DOCUMENT_PUNCTUATION).lower()


def looks_like_document_prefix(text: str) -> bool:
    """The start of a punctuated CPF or CNPJ: "529.982", "11.222.333/0"."""
    return bool(re.fullmatch(r"[0-9A-Za-z]{2,3}\.[0-9A-Za-z]{1,3}[0-9A-Za-z.\-/]*", text))
