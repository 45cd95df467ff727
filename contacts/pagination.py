from django.conf import settings
from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """A paginator that stops counting at CONTACTS_COUNT_CAP.

    An exact COUNT(*) over a million rows costs as much as the page itself;
    past the cap the list says "10.000+" and offers the first cap rows, which
    is as deep as anybody pages before refining the search.
    """

    @cached_property
    def count(self):
        cap = settings.CONTACTS_COUNT_CAP
        counted = self.object_list.order_by().values("pk")[: cap + 1].count()
        self.is_capped = counted > cap
        return min(counted, cap)

    is_capped = False
