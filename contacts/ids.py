"""Ids as a request (or a stored parameter) carries them: text that may
be anything."""

#: The largest value of a bigint primary key.
MAX_ID = 2**63 - 1


def id_of(value) -> int | None:
    """The id `value` spells in ASCII digits, or None. Superscript and other
    Unicode digits ("²", "١") pass str.isdigit() but not int(); a number
    beyond a bigint names no row (and some databases refuse it)."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MAX_ID)):
        return None
    number = int(text)
    return number if number <= MAX_ID else None


def ids_of(values) -> list[int]:
    """The ids among `values`, in their order; what is not one is left out."""
    return [number for value in values if (number := id_of(value)) is not None]
