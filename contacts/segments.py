"""Saved segments: the list's search and filters kept under a name
(models.Segment), applied by ContactFilter's `segment` parameter wherever
the list's filter is (the list, the export, the bulk actions).

A segment never widens: when a tag or the wallet it names was deleted, or
its wallet is not the user's, it says so and shows no contacts, where a
bookmark's stale filter would simply be left out."""

from django.core.exceptions import ValidationError
from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .ids import id_of, ids_of
from .models import Segment, Tag, Wallet

# The list's parameters a segment keeps (not the order, the page size or
# "the contacts of this import", which is one user's moment).
KEYS = ("q", "wallet", "tag", "type", "birthday")
MULTI_VALUED = ("tag",)


def as_query(filters: dict) -> QueryDict:
    """A segment's filters as the list's parameters."""
    data = QueryDict(mutable=True)
    for key in KEYS:
        value = filters.get(key)
        if key in MULTI_VALUED:
            data.setlist(key, [str(v) for v in value or []])
        elif value:
            data[key] = str(value)
    return data


def capture(filterset) -> tuple[dict, dict]:
    """The filters a (validated) ContactFilter applies, as a new segment's
    `filters` and `labels`. On a segment, what the list adds narrows it:
    both are kept when they do not name the same filter; otherwise a
    ValidationError says which."""
    own = _filters_of(filterset.form.cleaned_data)
    filters, labels = own
    layer = filterset.segment_layer
    if layer is not None:
        saved_filters, saved_labels = _filters_of(layer.form.cleaned_data)
        both = [filterset.filters[key].label for key in KEYS if key in filters and key in saved_filters]
        if both:
            raise ValidationError(
                _("The list filters “%(filters)s” on top of the segment “%(segment)s”, which filters by it too: "
                  "remove one of them to save the search.")
                % {"filters": ", ".join(str(label) for label in both), "segment": filterset.segment.name},
                code="overlap",
            )
        filters = {**saved_filters, **filters}
        labels = {**saved_labels, **labels}
    if not filters:
        raise ValidationError(_("Search or choose a filter first: a segment of every contact is the list itself."), code="empty")
    return filters, labels


def _filters_of(cleaned_data: dict) -> tuple[dict, dict]:
    filters, labels = {}, {}
    if cleaned_data.get("q"):
        filters["q"] = cleaned_data["q"]
    wallet = cleaned_data.get("wallet")
    if isinstance(wallet, Wallet):
        filters["wallet"] = str(wallet.pk)
        labels["wallet"] = wallet.name
    elif wallet:
        filters["wallet"] = str(wallet)  # "none": the contacts without one
    tags = list(cleaned_data.get("tag") or [])
    if tags:
        filters["tag"] = [str(tag.pk) for tag in tags]
        labels["tag"] = {str(tag.pk): tag.name for tag in tags}
    for key in ("type", "birthday"):
        if cleaned_data.get(key):
            filters[key] = cleaned_data[key]
    return filters, labels


def problem(segment: Segment, *, wallets) -> str:
    """Why `segment`'s filters no longer apply as saved (its filter left
    something out): a deleted tag or wallet, a wallet not among `wallets`
    (those the user may filter by), or a value no longer understood."""
    tag_ids = ids_of(segment.filters.get("tag") or [])
    known = set(Tag.objects.filter(pk__in=tag_ids).values_list("pk", flat=True))
    gone = [segment.labels.get("tag", {}).get(str(pk)) or f"#{pk}" for pk in tag_ids if pk not in known]
    if gone:
        return ngettext(
            "The tag “%(names)s” of the segment “%(segment)s” was deleted, so the segment shows no contacts. "
            "Save its search again without it, or delete the segment.",
            "The tags “%(names)s” of the segment “%(segment)s” were deleted, so the segment shows no contacts. "
            "Save its search again without them, or delete the segment.",
            len(gone),
        ) % {"names": "”, “".join(gone), "segment": segment.name}
    wallet = str(segment.filters.get("wallet") or "")
    if wallet == "none":
        return _("The segment “%(segment)s” is about the contacts without a wallet, which you do not see, so it shows you no contacts.") % {
            "segment": segment.name
        }
    if id_of(wallet) is not None:
        name = segment.labels.get("wallet") or f"#{wallet}"
        if not Wallet.objects.filter(pk=wallet).exists():
            return _(
                "The wallet “%(wallet)s” of the segment “%(segment)s” was deleted, so the segment shows no contacts. "
                "Save its search again with another wallet, or delete the segment."
            ) % {"wallet": name, "segment": segment.name}
        if not wallets.filter(pk=wallet).exists():
            return _("The segment “%(segment)s” is about the wallet “%(wallet)s”, which is not yours, so it shows you no contacts.") % {
                "wallet": name,
                "segment": segment.name,
            }
    return _("The filters of the segment “%(segment)s” are no longer understood, so it shows no contacts.") % {"segment": segment.name}


def unavailable() -> str:
    return _("This segment does not exist or is not shared with you, so no contacts are shown.")
