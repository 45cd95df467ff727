import sys
from collections import defaultdict
from collections.abc import Iterable
from operator import itemgetter

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import F, Q, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.utils.functional import cached_property

from .models import NUMBER_NAME_KEY_PREFIX, Contact, OptOut, Tag, name_search_words, words_condition


def with_row_details(contacts: list[Contact], *, tags: Iterable[Tag]) -> list[Contact]:
    """A page's contacts with what their rows show beside their own
    fields, read once for the page: their tags (`row_tags`, in the tags'
    order, from the links alone: `tags` is every tag, which the filters
    hold already), the channels of their opt-outs in force
    (`opt_out_channels`) and, for the few without a number, their
    identities (Contact.number_unknown). Django's prefetches of the same
    took a fifth of the page (benchmarks/README.md): a query each, composed
    through the relation, and an object for every tag of every row."""
    ids = [contact.pk for contact in contacts]
    if not ids:
        return contacts
    position = {tag.pk: n for n, tag in enumerate(tags)}
    by_id = {tag.pk: tag for tag in tags}
    links = list(Contact.tags.through.objects.filter(contact_id__in=ids).values_list("contact_id", "tag_id"))
    if missing := {tag_id for _contact_id, tag_id in links} - by_id.keys():  # made since the filters read them
        by_id.update(Tag.objects.in_bulk(missing))
    row_tags = defaultdict(list)
    for contact_id, tag_id in links:
        if tag_id in by_id:  # not deleted meanwhile
            row_tags[contact_id].append(by_id[tag_id])
    channels = defaultdict(list)
    for contact_id, channel_name in OptOut.objects.active().filter(contact_id__in=ids).values_list("contact_id", "channel_name"):
        channels[contact_id].append(channel_name)
    for contact in contacts:
        contact.row_tags = sorted(row_tags[contact.pk], key=lambda tag: (position.get(tag.pk, len(position)), tag.name))
        contact.opt_out_channels = channels[contact.pk]
    prefetch_related_objects([contact for contact in contacts if not contact.number and not contact.is_group], "identities")
    return contacts


# How many rows, in list order, the first attempt at a page of a broad search
# looks through (see ContactPaginator.page).
SEARCH_WINDOW = 5000


class ContactPaginator(Paginator):
    """Pages of the contact list that stay fast at a million rows.

    Counting stops at CONTACTS_COUNT_CAP: an exact COUNT(*) over a million
    rows costs more than the page itself. Past the cap the list says "1.000+"
    and offers the first cap rows, as deep as anybody pages before refining
    the search.

    A name-ordered text search lists first the contacts whose name starts
    with the first word typed, then the other matches, each part A–Z. Besides
    being what people look for ("maria" -> the Marias first), the first part
    is one range of the name index, read in order: exactly the case where the
    database would otherwise walk half the index ("maria" sorts after half
    the table) or sort every match.

    The other part (and every newest-first search) can be served two ways:
    walk the list order's index, testing each row until a page is full, or
    find all matches through the search index and sort them. Walking wins
    when matches are everywhere ("silva") and loses badly when they bunch up
    far down the order. The database cannot tell which case it is in, so the
    paginator decides with what it knows:

    - few matches (its count did not reach the limit): sort them, read by
      id: counting them fetched their ids, so the search does not run twice
      (on SQLite each run reads the whole table);
    - many: look only among the first SEARCH_WINDOW rows of the unsearched
      list (a range of the list order's index, which the database combines
      with the search index); if they hold the page, that page is exact:
      nothing that sorts earlier lies outside the window. Otherwise sort
      every match.

    `unsearched` is the same list without the search; None when there is no
    search, and then the database plans alone. `parts`, from
    name_search_parts(), splits a name-ordered text search in two.
    `count_in_order`: the list is not filtered (beyond what the user may
    see), and is counted in its order. `first_word`, from
    name_search_first_word(), lets a search of several words find both
    parts at once (see _split_by_first_word). `words`, from
    name_search_words(), are a plain text search's words (see _within_window).
    """

    is_capped = False

    def __init__(
        self, object_list, per_page, *, unsearched=None, parts=None, count_in_order=False, first_word=None, words=None, **kwargs
    ):
        super().__init__(object_list, per_page, **kwargs)
        self.count_in_order = count_in_order
        self.unsearched = unsearched
        self.parts = parts or [(object_list, unsearched is None)]
        self.first_word = first_word if parts else None
        self.words = words or []

    @cached_property
    def count(self):
        cap = settings.CONTACTS_COUNT_CAP
        more_than_cap, rest = False, None
        if self.first_word:
            # A search of several words: its matches in one look-up of the
            # search index (see _split_by_first_word).
            found = list(self.object_list.order_by().values_list("pk", "name_key", "id")[: cap + 1])
            first, rest = self._by_first_word(found)
            if len(found) <= cap:
                self._split_by_first_word(first, rest)
                return len(found)
            more_than_cap = True
        left = cap + 1
        self.part_sizes = []
        self.part_rows = []
        for position, (queryset, in_order) in enumerate(self.parts):
            rows = None
            if not left:
                size = 0
            elif more_than_cap and position == len(self.parts) - 1:
                # The search has more matches than the cap: the last part
                # holds the rest, at least `left` of them, among which those
                # the search found (see _ids_up_to).
                size = left
                rows = in_list_order(queryset, rest)
            elif in_order and self.count_in_order:
                # The whole list (an agent's: their wallets and those without
                # one) is counted in list order, as its page is read: without
                # the order the planner reads the wallet index, whose first
                # 266,000 rows (another wallet's) do not match: 25 ms against
                # 1 ms at a million contacts.
                size = queryset.values("pk")[:left].count()
            else:
                # A filter (a tag, a birthday) or a search is counted fastest
                # from its own index, in no order. Counting fetches the ids
                # and what the list is ordered by: when they are every match,
                # the page's ids are picked here and only its rows are read;
                # the search does not run again (it costs as much as the count).
                rows = in_list_order(queryset, queryset.order_by().values_list("pk", *order_fields(queryset))[:left])
                size = len(rows)
            self.part_sizes.append((size, size == left))  # (rows, stopped at the limit)
            self.part_rows.append(rows)
            left -= size
        total = cap + 1 - left
        self.is_capped = total > cap
        return min(total, cap)

    def _by_first_word(self, found) -> tuple[list, list]:
        """A search of several words' matches ((pk, name_key, id)) as its
        two parts: those whose name starts with the first word, the rest."""
        first = [row for row in found if row[1].startswith(self.first_word)]
        rest = [row for row in found if not row[1].startswith(self.first_word)]
        return first, rest

    def _split_by_first_word(self, first, rest) -> None:
        """The parts of a search of several words from every match, split
        by _by_first_word. Counted part by part, the first part asked the
        search index for every row holding the other words ("silva": 30,000
        at a million contacts) to combine with the name range, and the
        second asked the index again."""
        self.part_rows = [in_list_order(queryset, rows) for (queryset, _), rows in zip(self.parts, (first, rest), strict=True)]
        self.part_sizes = [(len(rows), False) for rows in self.part_rows]

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        rows, offset = [], 0
        parts = zip(self.parts, self.part_sizes, self.part_rows, strict=True)
        for (queryset, in_order), (size, many), found in parts:
            low, high = max(bottom - offset, 0), min(top - offset, size)
            if low < high:
                rows += self._rows(queryset, low, high, plain=in_order, many=many, found=found)
            offset += size
        return self._get_page(rows, number, self)

    def _rows(self, queryset, bottom, top, *, plain, many, found):
        """The rows from `bottom` to `top` of one part. `found`: the matches
        its count fetched, in list order ((pk, *order values)), or None;
        every match when not `many`."""
        if not many and found is not None:
            # Every match's id is known, in list order: the page's rows by id.
            page_ids = [row[0] for row in found[bottom:top]]
            position = {pk: n for n, pk in enumerate(page_ids)}
            return sorted(self._by_ids(queryset, page_ids), key=lambda row: position[row.pk])
        if plain and not self.count_in_order:
            # A filtered list: the page's ids first, then their rows. The
            # list order's index holds the columns the filters test (the
            # wallet, the birthday), so PostgreSQL finds the ids in the
            # index alone, instead of reading a row for each entry it walks
            # past (22,000 for today's birthdays: 30 ms against 3).
            ids = list(queryset.values_list("pk", flat=True)[bottom:top])
            return list(sort_without_index(self._by_ids(queryset, ids)))
        if plain:
            return list(queryset[bottom:top])
        if many and top <= SEARCH_WINDOW // 20:
            ids = self._ids_within_window(queryset, bottom, top)
            if ids is None and found is not None and len(found) >= top:
                ids = self._ids_up_to(queryset, found[top - 1], bottom, top)
            if ids is not None:
                return list(sort_without_index(self._by_ids(queryset, ids)))
        return list(sort_without_index(queryset)[bottom:top])

    def _ids_up_to(self, queryset, last, bottom, top):
        """The page's ids, when the count found at least `top` matches but
        the window did not hold them: the count's matches are real ones, so
        the page's rows sort no later than the `top`-th of them (`last`),
        and only the list up to there is searched. The count's matches come
        in no particular order, so for the first page that is about a
        fortieth of the list: a range the database combines with the search
        index, instead of fetching and sorting every match
        (benchmarks/README.md, "The slowest value of each scenario")."""
        return self._ids_where(queryset, at_or_before(list_order(queryset), last[1:]), bottom, top)

    def _by_ids(self, queryset, ids):
        """The rows of `ids`, found in `queryset`, read by id. A search's
        part is not asked again: its ids are its matches, and the name range
        of a search's first part, beside the ids, led PostgreSQL to walk the
        whole range testing each entry against them (benchmarks/README.md,
        "The slowest value of each scenario")."""
        source = self.unsearched if self.unsearched is not None else queryset
        return source.filter(pk__in=ids)

    def _ids_within_window(self, queryset, bottom, top):
        """The page's ids, looked for among the first SEARCH_WINDOW rows of
        the unsearched list; None when they do not hold it. Ids alone: a
        window that does not hold the page costs no rows, joins or
        prefetches."""
        window = within_first(self.unsearched, SEARCH_WINDOW)
        if window is None:
            return None
        ids = self._ids_where(queryset, window, bottom, top)
        return ids if len(ids) == top - bottom else None

    def _ids_where(self, queryset, condition: Q, bottom: int, top: int) -> list[int]:
        """The ids from `bottom` to `top` of `queryset`'s matches that meet
        `condition` (a range of the list order), in list order."""
        return list(self._within_window(queryset).filter(condition).values_list("pk", flat=True)[bottom:top])

    def _within_window(self, queryset):
        """`queryset` for the look among the list's first rows. A text
        search of several words asks the trigram index for its longest word
        only, the others being tested on the rows: for two, the planner
        multiplies their chances (92 rows expected for "enviar boleto", 7,551
        found), reads every match and sorts them, instead of combining the
        index with the window's name range. An agent's "enviar boleto por
        e-mail" read 6,714 rows for 25 of her wallets; now 68."""
        if len(self.words) < 2:
            return queryset
        narrowed = self.unsearched.filter(words_condition(self.words, indexed=1))
        if len(self.parts) > 1:
            # The second part of a name-ordered search (name_search_parts).
            narrowed = narrowed.exclude(name_starts_with(self.words[0]))
        return narrowed


def name_search_parts(unsearched, searched, query: str):
    """A name-ordered text search as two parts listed one after the other,
    each (queryset, read in index order as it is): contacts whose name starts
    with the first word, then the other matches. [] for other searches.

    The first part does not repeat the first word's LIKE: a name that starts
    with the word contains it, and without the LIKE the database estimates the
    part right and reads it straight from the name index. Of the other words
    the trigram index is asked for the longest only: for two or more, the
    planner multiplies their chances and expects a handful of rows ("por"
    and "whatsapp": 94 for 7,536), so it skips the name range and reads
    every row the index finds (4,600 for "camila rio de janeiro", 97 ms);
    with one word it combines the index with the name range (62 rows, 14 ms).
    """
    words = name_search_words(query)
    starts = name_starts_with(words[0]) if words else None
    if starts is None:
        return []
    return [
        (unsearched.filter(starts, words_condition(words[1:], indexed=1)), True),
        (searched.exclude(starts), False),
    ]


def name_search_first_word(query: str) -> str | None:
    """The first word of a name-ordered search of several words, whose
    name range makes its first part (name_search_parts); None otherwise.
    One word is left to the name range alone: its matches are often many
    ("maria": 60,000 at a million contacts), the range reads them in order."""
    words = name_search_words(query)
    if len(words) < 2 or words[0].startswith(NUMBER_NAME_KEY_PREFIX) or name_starts_with(words[0]) is None:
        # name_key starts with NUMBER_NAME_KEY_PREFIX where search_text
        # does not: the word would not be in the text searched.
        return None
    return words[0]


def name_starts_with(prefix: str) -> Q | None:
    """name_key starts with `prefix`, as a range the name index can serve
    (LIKE 'x%' cannot use it on SQLite, nor on PostgreSQL outside the C
    collation). name_key is compared byte by byte on both databases, which
    for UTF-8 is code point order. None when no character follows the
    prefix's last one, so there is no range to read."""
    following = next_character(prefix[-1])
    if following is None:
        return None
    return Q(name_key__gte=prefix, name_key__lt=prefix[:-1] + following)


def next_character(character: str) -> str | None:
    """The next code point that can be stored: surrogates (U+D800-U+DFFF)
    cannot be encoded, so U+D7FF is followed by U+E000."""
    code = ord(character) + 1
    if 0xD800 <= code <= 0xDFFF:
        code = 0xE000
    return chr(code) if code <= sys.maxunicode else None


def within_first(queryset, size: int) -> Q | None:
    """A condition true for the first `size` rows of `queryset`'s order and
    no other (a keyset range); None when there are fewer rows than that."""
    order = list_order(queryset)
    last = queryset.values_list(*[field.lstrip("-") for field in order])[size - 1 : size].first()
    if last is None:
        return None
    return at_or_before(order, last)


def at_or_before(order: list[str], last) -> Q:
    """A condition true for the rows that sort at or before the row whose
    values of `order`'s fields are `last` (a keyset range)."""
    fields = [field.lstrip("-") for field in order]
    condition = Q()
    # (a, b) <= (ka, kb) in list order: a before ka, or a = ka and b up to kb.
    for position in reversed(range(len(fields))):
        field = order[position]
        name = fields[position]
        before = f"{name}__gt" if field.startswith("-") else f"{name}__lt"
        up_to = f"{name}__gte" if field.startswith("-") else f"{name}__lte"
        if position == len(fields) - 1:
            condition = Q(**{up_to: last[position]})
        else:
            condition = Q(**{before: last[position]}) | (Q(**{name: last[position]}) & condition)
    return condition


def list_order(queryset) -> list[str]:
    return list(queryset.query.order_by or queryset.model._meta.ordering)


def order_fields(queryset) -> list[str]:
    return [field.lstrip("-") for field in list_order(queryset)]


def in_list_order(queryset, rows) -> list[tuple]:
    """`rows` ((pk, *values of order_fields(queryset))) in `queryset`'s
    order, sorted here as the database sorts them: name_key
    compares byte by byte there (C collation on PostgreSQL, BINARY on
    SQLite), which for UTF-8 is Python's code point order."""
    rows = list(rows)
    order = list_order(queryset)
    for position in reversed(range(len(order))):  # stable: the last key first
        rows.sort(key=itemgetter(position + 1), reverse=order[position].startswith("-"))
    return rows


def sort_without_index(queryset):
    """The same order, written so that no index can provide it: the database
    then fetches the matches through the search index and sorts them."""
    ordering = []
    for field in list_order(queryset):
        name = field.lstrip("-")
        # COALESCE(x, x) is x, but no index is built on it.
        expression = F(name) if name in ("id", "pk") else Coalesce(F(name), F(name))
        ordering.append(expression.desc() if field.startswith("-") else expression.asc())
    return queryset.order_by(*ordering)
