from django import forms
from django.utils.translation import gettext_lazy as _

from contacts.filters import visible_wallets
from contacts.ids import ids_of
from contacts.models import Tag, Wallet

from .models import Action


class IdsField(forms.Field):
    """Contact ids, as many as were ticked; what is not an id is left out."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        return sorted(set(ids_of(value or [])))


class BulkForm(forms.Form):
    """A bulk action on the list's selection: the rows ticked (`contact`),
    or every result of the list's query (`all`, `query`)."""

    #: Export is the export page's, with the same selection.
    EXPORT = "export"
    action = forms.ChoiceField(label=_("Action"), choices=[*Action.choices, (EXPORT, _("Export"))])
    tag = forms.ModelChoiceField(label=_("Tag"), queryset=Tag.objects.all(), required=False, empty_label=_("Choose the tag"))
    wallet = forms.ModelChoiceField(label=_("Wallet"), queryset=Wallet.objects.none(), required=False, empty_label=_("Choose the wallet"))
    all = forms.BooleanField(required=False, widget=forms.HiddenInput)
    query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    contact = IdsField(required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # Administrators move to any wallet, agents to their own.
        self.fields["wallet"].queryset = visible_wallets(_Request(user))

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if not data.get("all") and not data.get("contact"):
            raise forms.ValidationError(_("Tick the contacts first, or choose every result."), code="empty")
        if action in (Action.ADD_TAG, Action.REMOVE_TAG) and not data.get("tag"):
            self.add_error("tag", forms.ValidationError(_("Choose the tag."), code="required"))
        if action == Action.MOVE and not data.get("wallet"):
            self.add_error("wallet", forms.ValidationError(_("Choose the wallet."), code="required"))
        return data


class _Request:
    def __init__(self, user):
        self.user = user
