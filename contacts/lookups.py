"""Integer `in` lookups that tolerate values outside the column's range.

Django turns `id=2**63` into an empty result, but `id__in=[2**63]` reaches
the driver, and SQLite's raises OverflowError: a 500 for any form or filter
that takes several ids (tags) from the request. Values no row can hold are
left out, as `exact` does.
"""

from django.core.exceptions import EmptyResultSet
from django.db.models import IntegerField
from django.db.models.lookups import In


class IntegerFieldIn(In):
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(self.lhs.output_field.get_internal_type())
            self.rhs = [
                value
                for value in self.rhs
                if not isinstance(value, int)
                or ((low is None or value >= low) and (high is None or value <= high))
            ]
            if not self.rhs:
                raise EmptyResultSet
        return super().process_rhs(compiler, connection)


def register() -> None:
    IntegerField.register_lookup(IntegerFieldIn)
