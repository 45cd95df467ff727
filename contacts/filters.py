import django_filters
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Contact, Tag, Wallet

NO_WALLET = "none"


def visible_wallets(request):
    if request is None or request.user.has_perm("contacts.view_all_contacts"):
        return Wallet.objects.all()
    return Wallet.objects.filter(user=request.user)


class ContactFilter(django_filters.FilterSet):
    """The list page's query parameters: q, wallet, tag, type, sort, per_page."""

    q = django_filters.CharFilter(method="filter_search", label=_("Search"))
    wallet = django_filters.ModelChoiceFilter(
        queryset=visible_wallets,
        null_label=_("No wallet"),
        null_value=NO_WALLET,
        empty_label=_("All wallets"),
        label=_("Wallet"),
    )
    tag = django_filters.ModelMultipleChoiceFilter(
        queryset=Tag.objects.all(), method="filter_tags", label=_("Tags")
    )
    type = django_filters.ChoiceFilter(
        choices=[("people", _("People")), ("groups", _("Groups"))],
        method="filter_type",
        widget=forms.Select(attrs={"class": "form-select"}),
        empty_label=_("People and groups"),
        label=_("Type"),
    )
    sort = django_filters.ChoiceFilter(
        choices=[("name", _("Name (A–Z)")), ("newest", _("Newest first"))],
        method="sort_by",
        widget=forms.Select(attrs={"class": "form-select"}),
        empty_label=None,
        label=_("Sort by"),
    )
    per_page = django_filters.ChoiceFilter(
        choices=[(str(size), str(size)) for size in settings.CONTACTS_PAGE_SIZES],
        method="paginate_only",
        empty_label=None,
        label=_("Per page"),
    )

    class Meta:
        model = Contact
        fields = []

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = getattr(request, "user", None)
        if settings.CONTACTS_STRICT_WALLETS and user and not user.has_perm("contacts.view_all_contacts"):
            # In strict mode an agent never sees contacts without a wallet.
            self.filters["wallet"].extra["null_label"] = None

    def filter_queryset(self, queryset):
        # The search goes last, and the list just before it is kept: the
        # paginator needs both to choose how to fetch a page quickly.
        data = dict(self.form.cleaned_data)
        data["sort"] = data.get("sort") or "name"  # always an explicit order
        query = data.pop("q", "")
        for name, value in data.items():
            queryset = self.filters[name].filter(queryset, value)
        self.unsearched_qs = queryset if query else None
        self.search_query = query
        self.sorted_by_name = data["sort"] == "name"
        return self.filters["q"].filter(queryset, query)

    def filter_search(self, queryset, name, value):
        return queryset.search(value)

    def filter_tags(self, queryset, name, value):
        return queryset.with_any_tag(value) if value else queryset

    def filter_type(self, queryset, name, value):
        return queryset.filter(is_group=(value == "groups"))

    def sort_by(self, queryset, name, value):
        if value == "newest":
            return queryset.order_by("-created_at", "-id")
        return queryset.order_by("name_key", "id")

    def paginate_only(self, queryset, name, value):
        # Read by the view for the page size; it does not filter.
        return queryset

    @property
    def is_filtering(self) -> bool:
        data = self.form.cleaned_data if self.form.is_bound and self.form.is_valid() else {}
        return any(data.get(key) for key in ("q", "wallet", "tag", "type"))

    @property
    def page_size(self) -> int:
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return int(data.get("per_page") or settings.CONTACTS_PAGE_SIZES[0])
