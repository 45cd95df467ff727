"""Birthdays: the day of the year a contact was born on, stored as a number
(month × 100 + day: 1225 for 25 December) beside the birth date, so that
"birthdays in the next 7 days" is a list of days looked up in one index,
whatever the year, at a million contacts; the month and day taken out of every birth
date by the database would read every row.

Someone born on 29 February celebrates on the 28th in a year without one."""

from datetime import date, timedelta

# The list's and the export's `birthday` parameter (a contract): how many
# days from today, today included.
WINDOWS = {"today": 1, "week": 7, "month": 30}


def key(birth_date: date | str | None) -> int | None:
    """The stored day of the year of a birth date (None without one). A
    date given as ISO text, as a model field accepts it, is read as one."""
    if isinstance(birth_date, str):
        try:
            birth_date = date.fromisoformat(birth_date[:10])
        except ValueError:
            return None  # saving it fails on the date field itself
    return birth_date.month * 100 + birth_date.day if birth_date else None


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def keys_within(window: str, *, today: date) -> set[int]:
    """The days of the year whose birthdays fall in `window` from `today`
    (see WINDOWS): across the year's end, and 29 February on the 28th of a
    year without it."""
    keys = set()
    for offset in range(WINDOWS[window]):
        day = today + timedelta(days=offset)
        keys.add(key(day))
        if day.month == 2 and day.day == 28 and not _is_leap(day.year):
            keys.add(229)
    return keys
