from django import forms
from django.utils.translation import gettext_lazy as _

from contacts import normalizers


class ErasureForm(forms.Form):
    """The typed confirmation of an erasure: the contact's name as shown,
    accents, case and spaces aside."""

    confirmation = forms.CharField(
        label=_("Type the contact's name to confirm"),
        max_length=300,
        strip=True,
        widget=forms.TextInput(attrs={"class": "form-control", "autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, contact, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact = contact
        self.fields["confirmation"].help_text = _("Type “%(name)s”.") % {"name": contact.name}

    def clean_confirmation(self):
        typed = self.cleaned_data["confirmation"]
        if normalizers.fold(typed) != normalizers.fold(self.contact.name):
            raise forms.ValidationError(
                _("Type the contact's name exactly as shown, “%(name)s”, to erase their data."),
                code="confirmation_mismatch",
                params={"name": self.contact.name},
            )
        return typed
