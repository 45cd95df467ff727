import django_filters
from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .models import Channel, Ticket


class TicketFilter(django_filters.FilterSet):
    """The ticket list's query parameters: view (mine, open, all), channel,
    status. Without a view, agents see theirs and administrators the open ones."""

    view = django_filters.ChoiceFilter(
        choices=[("mine", _("Mine")), ("open", _("Open")), ("all", _("All"))],
        method="filter_view",
        empty_label=None,
        label=_("Show"),
    )
    channel = django_filters.ModelChoiceFilter(
        queryset=Channel.objects.all(),
        empty_label=_("All channels"),
        label=_("Channel"),
        widget=forms.Select(attrs={"class": "form-select", "id": "filter-channel"}),
    )
    status = django_filters.ChoiceFilter(
        choices=Ticket.Status.choices,
        empty_label=_("Any status"),
        label=_("Status"),
        widget=forms.Select(attrs={"class": "form-select", "id": "filter-status"}),
    )

    class Meta:
        model = Ticket
        fields = []

    def __init__(self, data=None, *args, **kwargs):
        # Always bound, so that "mine" applies to the bare address too. Only
        # what is said counts, and a stale or garbled value (a deleted
        # channel in a bookmark) is left out rather than emptying the list.
        data = QueryDict(mutable=True) if data is None else data.copy()
        for key in [key for key, values in data.lists() if not any(v.strip() for v in values)]:
            del data[key]
        super().__init__(data, *args, **kwargs)
        for name in list(self.form.errors):
            self.data.pop(name, None)
        if self.form.errors:
            del self._form

    @property
    def default_view(self) -> str:
        """The bare address: administrators, who serve no wallet of their
        own, land on the queue (open tickets); agents on theirs."""
        user = getattr(self.request, "user", None)
        return "open" if user is not None and user.has_perm("contacts.view_all_contacts") else "mine"

    @property
    def current_view(self) -> str:
        return self.form.cleaned_data.get("view") or self.default_view

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("view"):
            queryset = self.filter_view(queryset, "view", self.default_view)
        return queryset

    def filter_view(self, queryset, name, value):
        if value == "open":
            return queryset.active()
        if value == "all":
            return queryset
        return queryset.filter(user=self.request.user)

    def query_for(self, view: str) -> str:
        """The list's address with another view and the same filters."""
        data = self.data.copy()
        data.pop("page", None)
        data["view"] = view
        return "?" + data.urlencode()
