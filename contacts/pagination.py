from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils.functional import cached_property

# How many rows, in list order, the first attempt at a page of a broad search
# looks through (see ContactPaginator.page).
SEARCH_WINDOW = 5000


class CappedPaginator(Paginator):
    """A paginator that stops counting at CONTACTS_COUNT_CAP.

    An exact COUNT(*) over a million rows costs more than the page itself;
    past the cap the list says "1.000+" and offers the first cap rows, which
    is as deep as anybody pages before refining the search.
    """

    is_capped = False

    @cached_property
    def count(self):
        cap = settings.CONTACTS_COUNT_CAP
        counted = self.object_list.order_by().values("pk")[: cap + 1].count()
        self.is_capped = counted > cap
        return min(counted, cap)


class ContactPaginator(CappedPaginator):
    """Pages of a contact search that stay fast at a million rows.

    A search can be served two ways: walk the list order's index and test
    each row until a page is full, or find every match through the search
    index and sort them. Walking wins when matches are everywhere ("silva"),
    and is a disaster when they bunch up far down the order ("maria" sorts
    after half the table). The database cannot tell which case it is in, so
    the paginator decides with what it knows:

    - few matches (the count did not reach the cap): sort them;
    - many: look only among the first SEARCH_WINDOW rows of the unsearched
      list (a range of the list order's index, which the database combines
      with the search index); if they hold the page, that page is exact:
      nothing that sorts earlier lies outside the window. Otherwise sort
      every match.

    `unsearched` is the same list without the search; None when there is no
    search, and then the database plans alone.
    """

    def __init__(self, object_list, per_page, *, unsearched=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.unsearched = unsearched

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        return self._get_page(self._rows(bottom, top), number, self)

    def _rows(self, bottom, top):
        if self.unsearched is None:
            return self.object_list[bottom:top]
        if self.is_capped and top <= SEARCH_WINDOW // 20:
            window = within_first(self.unsearched, SEARCH_WINDOW)
            if window is not None:
                rows = list(self.object_list.filter(window)[bottom:top])
                if len(rows) == top - bottom:
                    return rows
        return sort_without_index(self.object_list)[bottom:top]


def within_first(queryset, size: int) -> Q | None:
    """A condition true for the first `size` rows of `queryset`'s order and
    no other (a keyset range); None when there are fewer rows than that."""
    order = list_order(queryset)
    fields = [field.lstrip("-") for field in order]
    last = queryset.values_list(*fields)[size - 1 : size].first()
    if last is None:
        return None
    condition = Q()
    # (a, b) <= (ka, kb) in list order: a before ka, or a = ka and b up to kb.
    for position in reversed(range(len(fields))):
        field = order[position]
        name = fields[position]
        before = f"{name}__gt" if field.startswith("-") else f"{name}__lt"
        at_or_before = f"{name}__gte" if field.startswith("-") else f"{name}__lte"
        if position == len(fields) - 1:
            condition = Q(**{at_or_before: last[position]})
        else:
            condition = Q(**{before: last[position]}) | (Q(**{name: last[position]}) & condition)
    return condition


def list_order(queryset) -> list[str]:
    return list(queryset.query.order_by or queryset.model._meta.ordering)


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
