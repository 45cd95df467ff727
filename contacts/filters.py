from dataclasses import dataclass
from types import SimpleNamespace
from urllib.parse import urlencode

import django_filters
from django import forms
from django.conf import settings
from django.http import QueryDict
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from jobs.models import Job

from . import segments
from .ids import id_of, ids_of
from .models import Contact, Segment, Tag, Wallet

NO_WALLET = "none"


def visible_wallets(request):
    if request is None or request.user.has_perm("contacts.view_all_contacts"):
        return Wallet.objects.all()
    return Wallet.objects.filter(user=request.user)


class ContactFilter(django_filters.FilterSet):
    """The list page's query parameters: q, wallet, tag, type, birthday,
    segment, optout, imported, sort, per_page.

    `segment` applies a saved segment's filters (contacts.segments) beneath
    the others, which narrow it further; a segment that no longer applies
    as saved shows no contacts and says why (`segment_problem`)."""

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
        widget=forms.Select(attrs={"class": "form-select", "id": "filter-type"}),
        empty_label=_("People and groups"),
        label=_("Type"),
    )
    birthday = django_filters.ChoiceFilter(
        choices=[("today", _("Birthday today")), ("week", _("Next 7 days")), ("month", _("Next 30 days"))],
        method="filter_birthday",
        widget=forms.Select(attrs={"class": "form-select", "id": "filter-birthday"}),
        empty_label=_("Birthday"),
        label=_("Birthday"),
    )
    # Resolved in __init__ (a segment of the user's), applied beneath the rest.
    segment = django_filters.CharFilter(method="filter_segment", label=_("Segment"))
    optout = django_filters.ChoiceFilter(
        choices=[("yes", _("Opted out of messages")), ("no", _("Receives messages"))],
        method="filter_optout",
        widget=forms.Select(attrs={"class": "form-select", "id": "filter-optout"}),
        empty_label=_("Opt-out"),
        label=_("Opt-out"),
    )
    # "Ver os contatos" after an import: the contacts it created and updated.
    imported = django_filters.UUIDFilter(method="filter_imported", label=pgettext_lazy("filter", "Import"))
    sort = django_filters.ChoiceFilter(
        choices=[("name", _("Name (A–Z)")), ("newest", _("Newest first"))],
        method="sort_by",
        widget=forms.Select(attrs={"class": "form-select", "id": "filter-sort"}),
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

    # The parameters that take one value (tag takes several), as a job
    # keeps them to apply the same filter later (the export).
    SINGLE_VALUED = ("q", "wallet", "type", "birthday", "segment", "optout", "sort", "imported")

    def __init__(self, data=None, *args, request=None, **kwargs):
        if data is not None:
            # Only what is said counts: "?q=&wallet=" is no filter at all.
            data = data.copy()
            for key in [key for key, values in data.lists() if not any(v.strip() for v in values)]:
                del data[key]
        super().__init__(data, *args, request=request, **kwargs)
        if data is not None:
            self.data = data  # the QueryDict itself, even when empty
        user = getattr(request, "user", None)
        if settings.CONTACTS_STRICT_WALLETS and user and not user.has_perm("contacts.view_all_contacts"):
            # In strict mode an agent never sees contacts without a wallet.
            self.filters["wallet"].extra["null_label"] = None
        self.notes = self._drop_what_cannot_apply() if self.is_bound else []
        self.segment = self.segment_layer = None
        self.segment_problem = ""
        if self.is_bound and "segment" in self.data:
            self._resolve_segment(self.data["segment"].strip())

    @classmethod
    def for_user(cls, user, data, *, queryset=None) -> "ContactFilter":
        """The list's filter outside a request (an export job, a command, a
        bulk action): the same parameters, `segment` included, among the
        contacts `user` may see (or within `queryset`)."""
        if not isinstance(data, QueryDict):
            query = QueryDict(mutable=True)
            for key, value in data.items():
                query.setlist(key, [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)])
            data = query
        if queryset is None:
            queryset = Contact.objects.visible_to(user)
        return cls(data, queryset=queryset, request=SimpleNamespace(user=user))

    def _resolve_segment(self, value: str) -> None:
        """The saved segment named by `value` among the user's own and the
        team's, with its filters checked: whatever of them cannot apply
        (a deleted tag, another agent's wallet) is a problem, never left out."""
        user = getattr(self.request, "user", None)
        found = None
        if user is not None and (pk := id_of(value)) is not None:
            found = Segment.objects.visible_to(user).filter(pk=pk).first()
        if found is None:
            self.segment_problem = segments.unavailable()
            return
        self.segment = found
        layer = type(self)(segments.as_query(found.filters), queryset=self.queryset, request=self.request)
        if layer.notes or not layer.form.is_valid():
            self.segment_problem = segments.problem(found, wallets=visible_wallets(self.request))
            return
        self.segment_layer = layer

    def _drop_what_cannot_apply(self) -> list[str]:
        """A stale or forbidden value (a deleted tag in a bookmark, another
        agent's wallet, an unknown page size) is left out with a note; the
        rest of the filters still apply. Returns the notes."""
        notes = []
        if "tag" in self.data and self.form["tag"].errors:
            # Keep the tags that still exist; drop only the others.
            known = {str(pk) for pk in Tag.objects.filter(pk__in=ids_of(self.data.getlist("tag"))).values_list("pk", flat=True)}
            self.data.setlist("tag", [pk for pk in self.data.getlist("tag") if pk in known])
            notes.append(_("A tag in the filter no longer exists and was left out."))
        for name in list(self.form.errors):
            if name == "tag" or name not in self.data:
                continue
            del self.data[name]
            if name == "wallet":
                notes.append(_("The wallet in the filter is not available and was left out."))
            else:
                notes.append(_("The “%(filter)s” filter was not understood and was left out.") % {"filter": self.filters[name].label})
        if notes:
            del self._form  # validate again, without what was dropped
        return notes

    @property
    def query_string(self) -> str:
        """The filters as they apply, for the address bar: what is empty,
        stale or forbidden is not there."""
        return urlencode([(key, value) for key, values in self.data.lists() for value in values]) if self.is_bound else ""

    @property
    def chips(self) -> list["Chip"]:
        """The active filters, each with the address of the list without it."""
        if not self.is_bound or not self.form.is_valid():
            return []
        data = self.form.cleaned_data
        chips = []
        if "segment" in self.data:
            name = self.segment.name if self.segment else _("unavailable")
            detail = " · ".join(f"{chip.label}: {chip.value}" for chip in self.segment_layer.chips) if self.segment_layer else ""
            chips.append(Chip(_("Segment"), name, self._without("segment"), detail))
        if data.get("q"):
            chips.append(Chip(pgettext_lazy("filter chip", "Search"), data["q"], self._without("q")))
        if "wallet" in self.data:
            wallet = data.get("wallet")  # a Wallet, or NO_WALLET
            chips.append(Chip(_("Wallet"), wallet.name if isinstance(wallet, Wallet) else _("No wallet"), self._without("wallet")))
        for tag in data.get("tag") or []:
            chips.append(Chip(_("Tag"), tag.name, self._without("tag", str(tag.pk))))
        if data.get("type"):
            chips.append(Chip(_("Type"), dict(self.filters["type"].extra["choices"])[data["type"]], self._without("type")))
        if data.get("birthday"):
            chips.append(Chip(_("Birthday"), dict(self.filters["birthday"].extra["choices"])[data["birthday"]], self._without("birthday")))
        if data.get("optout"):
            chips.append(Chip(_("Opt-out"), dict(self.filters["optout"].extra["choices"])[data["optout"]], self._without("optout")))
        if data.get("imported"):
            job = imported_job(getattr(self.request, "user", None), data["imported"])
            name = (job.file_name if job else "") or _("created or updated")
            chips.append(Chip(pgettext_lazy("filter", "Import"), name, self._without("imported")))
        return chips

    def _without(self, key: str, value: str | None = None) -> str:
        pairs = [
            (k, v)
            for k, values in self.data.lists()
            for v in values
            if k != "page" and not (k == key and (value is None or v == value))
        ]
        return "?" + urlencode(pairs) if pairs else "?"

    def filter_queryset(self, queryset):
        # The search goes last, and the list just before it is kept: the
        # paginator needs both to choose how to fetch a page quickly.
        data = dict(self.form.cleaned_data)
        data.pop("segment", None)
        data["sort"] = data.get("sort") or "name"  # always an explicit order
        query = data.pop("q", "")
        if self.segment_problem:
            queryset = queryset.none()
        elif self.segment_layer is not None:
            saved = {key: value for key, value in self.segment_layer.form.cleaned_data.items() if key in segments.KEYS}
            saved_query = saved.pop("q", "")
            for name, value in saved.items():
                queryset = self.filters[name].filter(queryset, value)
            if saved_query and query:
                queryset = queryset.search(saved_query)
            query = query or saved_query
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

    def filter_birthday(self, queryset, name, value):
        return queryset.with_birthday_within(value, today=timezone.localdate())

    def filter_optout(self, queryset, name, value):
        return queryset.opted_out(value == "yes")

    def filter_imported(self, queryset, name, value):
        return touched_by_import(queryset, imported_job(getattr(self.request, "user", None), value))

    def filter_type(self, queryset, name, value):
        return queryset.filter(is_group=(value == "groups"))

    def sort_by(self, queryset, name, value):
        if value == "newest":
            return queryset.order_by("-created_at", "-id")
        return queryset.order_by("name_key", "id")

    def filter_segment(self, queryset, name, value):
        # Resolved in __init__, applied by filter_queryset beneath the rest.
        return queryset

    def paginate_only(self, queryset, name, value):
        # Read by the view for the page size; it does not filter.
        return queryset

    # The form's choices for the template, read once: a template's for loop
    # (and list()) takes a ModelChoiceIterator's length first, one COUNT
    # query more; its iterator alone does not.
    @cached_property
    def wallet_choices(self) -> list[tuple]:
        # Not through the field's iterator either: it reads the wallets with
        # queryset.iterator(), a server-side cursor on PostgreSQL (DECLARE,
        # FETCH, CLOSE: three round trips for a handful of rows, one here).
        field = self.form["wallet"].field
        iterator = field.iterator(field)
        fixed = [("", field.empty_label), (field.null_value, field.null_label)]
        return [(value, label) for value, label in fixed if label is not None] + [iterator.choice(wallet) for wallet in field.queryset]

    @cached_property
    def tags(self) -> list[Tag]:
        """Every tag, for the tag filter's choices and the chips' colours."""
        return list(self.form["tag"].field.queryset)

    @property
    def is_filtering(self) -> bool:
        """Anything narrowing the list, so an empty list means no match."""
        return self.is_bound and any(key in self.data for key in ("q", "wallet", "tag", "type", "birthday", "optout", "segment", "imported"))

    @property
    def can_be_saved(self) -> bool:
        """A search or filter to keep as a segment (beyond the segment
        itself, which is saved already)."""
        return self.is_bound and not self.segment_problem and any(key in self.data for key in segments.KEYS)

    @property
    def page_size(self) -> int:
        data = self.form.cleaned_data if self.form.is_valid() else {}
        return int(data.get("per_page") or settings.CONTACTS_PAGE_SIZES[0])


@dataclass(frozen=True)
class Chip:
    """One active filter, as shown above the list: "Tag: VIP ×"."""

    label: str
    value: str
    remove_url: str
    # What the chip stands for, when its value does not say it (a segment's filters).
    detail: str = ""


def imported_job(user, token) -> Job | None:
    """The user's own import job of that token (a job is its owner's alone)."""
    if user is None:
        return None
    return Job.objects.visible_to(user).filter(token=token, kind=Job.Kind.IMPORT, status=Job.Status.DONE).first()


def touched_by_import(queryset, job: Job | None):
    """The contacts of `queryset` the import `job` created or updated;
    none for a job that is not the user's, or that wrote nothing."""
    touched = job.result.get("touched") if job is not None else None
    if not touched:
        return queryset.none()
    return queryset.touched_in_batch(batch=touched["batch"], after=touched["after"])

