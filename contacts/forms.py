import uuid

from django import forms
from django.conf import settings
from django.db import models, transaction
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import normalizers, rules, segments
from .images import ALLOWED_FORMATS, normalize_photo, open_image
from .models import Contact, CustomField, Segment, Wallet, unique_value
from .services import contacts_refresh_search, delete_file_after_commit

MAX_PHOTO_BYTES = 5 * 1024 * 1024  # what a phone camera sends; stored much smaller

DUPLICATE_MESSAGES = {
    "number": _("A contact with this number already exists: {link}."),
    "telegram_id": _("A contact with this Telegram id already exists: {link}."),
    "cpf_cnpj": _("A contact with this CPF/CNPJ already exists: {link}."),
}
HIDDEN_DUPLICATE_MESSAGES = {
    "number": _("This number already belongs to a contact of another wallet."),
    "telegram_id": _("This Telegram id already belongs to a contact of another wallet."),
    "cpf_cnpj": _("This CPF/CNPJ already belongs to a contact of another wallet."),
}


def style_widgets(form):
    """Give each widget its Bootstrap class, so templates stay markup-only."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple)):
            css = "form-check-input"
        elif isinstance(widget, forms.Select):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs.setdefault("class", css)


class TextField(forms.CharField):
    """Text as a person meant it: pasted invisible marks and odd spaces
    cleaned before any other check (normalizers.clean_text)."""

    def to_python(self, value):
        return super().to_python(normalizers.clean_text(value) if isinstance(value, str) else value)


class CodeEmailField(forms.EmailField):
    """An e-mail pasted with invisible marks or a no-break space is still
    that e-mail."""

    def to_python(self, value):
        return super().to_python(normalizers.clean_code(value) if isinstance(value, str) else value)


def clean_formfield(db_field, **kwargs):
    """Every text field of our forms cleans pasted text first; no maxlength
    attribute, so a browser never cuts a long paste silently: the server
    says what is too long."""
    if isinstance(db_field, models.EmailField):
        kwargs.setdefault("form_class", CodeEmailField)
    elif isinstance(db_field, models.CharField) and not db_field.choices:
        kwargs.setdefault("form_class", TextField)
    field = db_field.formfield(**kwargs)
    if field is not None:
        field.widget.attrs.pop("maxlength", None)
    return field


class PhotoInput(forms.ClearableFileInput):
    """The current photo as a thumbnail, served by the permission-checked
    photo view (never a storage path), with "remover foto"."""

    template_name = "contacts/widgets/photo_input.html"
    clear_checkbox_label = _("Remove photo")
    photo_url = ""

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["photo_url"] = self.photo_url
        return context


class PhotoField(forms.ImageField):
    """An image upload checked by contacts.images: allowed formats only,
    pixels capped before decoding; Django's own check would open any format
    Pillow knows."""

    default_error_messages = {"invalid_image": _("Send a valid image: a JPEG, PNG, WebP or GIF photo.")}
    # The content decides, not the file name's extension.
    default_validators = []

    def to_python(self, data):
        if getattr(data, "name", None):
            # The stored name is random (see normalize_photo); the uploaded
            # one may be longer in bytes than any limit.
            data.name = "photo"
        upload = forms.FileField.to_python(self, data)
        if upload is None:
            return None
        with open_image(upload) as image:
            upload.content_type = image.get_format_mimetype()
        upload.seek(0)
        return upload

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs["accept"] = ",".join(f"image/{name.lower()}" for name in ALLOWED_FORMATS)
        return attrs


# No-break spaces and a non-breaking hyphen.
UNBREAKABLE_PHONE_EXAMPLE = normalizers.PHONE_EXAMPLE.replace(" ", "\u00a0").replace("-", "\u2011")


class ContactRulesMixin:
    """The field rules every contact form shares (panel and admin): each
    clean_<field> stores the canonical form; clean() finds duplicates."""

    #: The user filling the form; None means an administrator (Django admin).
    user = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # People read and edit "+55 11 98765-4321", not the stored digits.
        if self.instance.pk and not self.instance.is_group and "number" in self.fields:
            self.initial["number"] = normalizers.format_phone(self.instance.number)
        if "number" in self.fields:
            # The example in the hint never breaks across lines on a phone.
            number = self.fields["number"]
            number.help_text = str(number.help_text).replace(normalizers.PHONE_EXAMPLE, UNBREAKABLE_PHONE_EXAMPLE)

    def clean_name(self):
        return rules.name(self.cleaned_data["name"])

    def clean_number(self):
        return rules.number(self.cleaned_data["number"], is_group=self.cleaned_data.get("is_group", self.instance.is_group))

    def clean_cpf_cnpj(self):
        return rules.cpf_cnpj(self.cleaned_data["cpf_cnpj"])

    def clean_email(self):
        return rules.email(self.cleaned_data["email"])

    def clean_telegram_id(self):
        return rules.telegram_id(self.cleaned_data["telegram_id"])

    def clean_birth_date(self):
        return rules.birth_date(self.cleaned_data["birth_date"])

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if not photo or "photo" not in self.changed_data:
            return photo
        if photo.size > MAX_PHOTO_BYTES:
            raise forms.ValidationError(
                _("The photo is too large: send an image of up to 5 MB."), code="photo_too_large"
            )
        return normalize_photo(photo)

    def clean(self):
        cleaned_data = super().clean()
        self.add_duplicate_errors()
        return cleaned_data

    def validate_constraints(self):
        """The model's constraints are the unique number, Telegram id and
        CPF/CNPJ, which clean() has checked (add_duplicate_errors, with a
        message that says who holds the value). Django's own check of them
        asked the database twice more for each value (its condition, then
        the value; benchmarks/README.md). A constraint on other fields is
        still checked."""
        exclude = self._get_validation_exclusions() | DUPLICATE_MESSAGES.keys()
        try:
            self.instance.validate_constraints(exclude=exclude)
        except forms.ValidationError as error:
            self._update_errors(error)

    def add_duplicate_errors(self) -> bool:
        """Add an error to each unique field whose value another contact
        holds; True when there was one. Also called after an IntegrityError,
        when a concurrent writer got there between validation and save."""
        found = False
        for field in DUPLICATE_MESSAGES:
            value = self.cleaned_data.get(field)
            if not value or field in self.errors:
                continue
            # From the field's unique index: ordered by name (the model's
            # default), SQLite walked the name index through every contact.
            other = Contact.objects.filter(unique_value(field, value)).exclude(pk=self.instance.pk).order_by("pk").first()
            if other is None:
                continue
            found = True
            self.add_error(field, forms.ValidationError(self._duplicate_message(field, other), code="duplicate"))
        return found

    def _duplicate_message(self, field, other):
        if self.user is not None and not Contact.objects.visible_to(self.user).filter(pk=other.pk).exists():
            # The other contact lives in a wallet this agent cannot see: say
            # that it exists, never who it is.
            return HIDDEN_DUPLICATE_MESSAGES[field]
        link = format_html('<a href="{}">{}</a>', reverse("contacts:update", args=[other.pk]), other.name)
        return format_html(str(DUPLICATE_MESSAGES[field]), link=link)


class CustomFieldForm(forms.ModelForm):
    class Meta:
        model = CustomField
        formfield_callback = clean_formfield
        fields = ["name", "value"]
        widgets = {
            "name": forms.TextInput(attrs={"placeholder": _("Field name")}),
            "value": forms.TextInput(attrs={"placeholder": _("Value")}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self)

    def clean_name(self):
        return " ".join(self.cleaned_data["name"].split())


class BaseCustomFieldFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE"):
                continue
            name = form.cleaned_data.get("name")
            if not name:
                continue
            key = normalizers.fold(name)
            if key in seen:
                form.add_error(
                    "name",
                    forms.ValidationError(
                        _("There is already a field named “%(name)s”."),
                        code="duplicate_field",
                        params={"name": name},
                    ),
                )
            seen.add(key)


CustomFieldFormSet = forms.inlineformset_factory(
    Contact,
    CustomField,
    form=CustomFieldForm,
    formset=BaseCustomFieldFormSet,
    # Three empty rows, so that several can be filled in at once without
    # JavaScript; with it, the page keeps one and adds more on demand.
    extra=3,
    can_delete=True,
    max_num=50,
    validate_max=True,
)


class StaleContactError(Exception):
    """The contact changed after the form was opened."""


class ContactGoneError(Exception):
    """The contact was deleted after the form was opened."""


class ContactForm(ContactRulesMixin, forms.ModelForm):
    """The "Adicionar"/edit popup: every field of the seed plus the
    "Adicionar Informação" rows, saved together or not at all."""

    # When the edited contact was last saved, as the form saw it: a save over
    # somebody else's newer change is refused instead of silently undoing it.
    version = forms.CharField(widget=forms.HiddenInput, required=False)
    # One per opened "Adicionar" form: a second submit of the same form (a
    # double click, a resent page) finds the contact the first one created
    # instead of reporting it as a duplicate (see ContactCreateView).
    form_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=32)

    birth_date = forms.DateField(
        label=_("birth date"),
        required=False,
        # Phones show digits only for a numeric input: "01011990" is read too.
        input_formats=["%d/%m/%Y", "%d%m%Y"],
        widget=forms.DateInput(format="%d/%m/%Y", attrs={"placeholder": _("dd/mm/yyyy"), "inputmode": "numeric"}),
        error_messages={"invalid": _("Enter the date as dd/mm/yyyy, like 01/01/1990.")},
    )

    class Meta:
        model = Contact
        fields = rules.CONTACT_FIELDS
        formfield_callback = clean_formfield
        widgets = {
            "number": forms.TextInput(attrs={"placeholder": "+55 11 98765-4321", "inputmode": "tel"}),
            "cpf_cnpj": forms.TextInput(attrs={"placeholder": "529.982.247-25"}),
            "email": forms.EmailInput(attrs={"placeholder": "nome@exemplo.com.br"}),
            "telegram_id": forms.TextInput(attrs={"inputmode": "numeric"}),
            "tags": forms.CheckboxSelectMultiple,
            "photo": PhotoInput,
        }
        field_classes = {"photo": PhotoField}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.custom_fields = CustomFieldFormSet(
            data=self.data if self.is_bound else None,
            instance=self.instance,
            prefix="custom_fields",
        )
        self._limit_wallets()
        if not self.instance.pk:
            self.initial.setdefault("form_token", uuid.uuid4().hex)
        if self.instance.pk:
            self.initial["version"] = self.instance.updated_at.isoformat()
            if self.instance.photo:
                self.fields["photo"].widget.photo_url = (
                    reverse("contacts:photo", args=[self.instance.pk]) + f"?v={int(self.instance.updated_at.timestamp())}"
                )
        style_widgets(self)

    def _limit_wallets(self):
        wallet = self.fields["wallet"]
        wallet.empty_label = _("No wallet")
        if self.user.has_perm("contacts.view_all_contacts"):
            wallet.queryset = Wallet.objects.select_related("user")
            return
        # Agents choose among their own wallets; a new contact goes to the
        # first of them unless they pick "no wallet".
        own = Wallet.objects.filter(user=self.user).select_related("user")
        wallet.queryset = own
        wallet.required = settings.CONTACTS_STRICT_WALLETS
        if not self.instance.pk and "wallet" not in self.initial:
            self.initial["wallet"] = own.first()

    def is_valid(self):
        # Both must be checked so that every error shows at once.
        return all([super().is_valid(), self.custom_fields.is_valid()])

    @transaction.atomic
    def save(self, commit=True):
        version = self.cleaned_data.get("version")
        if self.instance.pk:
            # Locked until commit, so two saves of the same version cannot
            # both pass this check, and a delete waits for the save.
            current = (
                Contact.objects.select_for_update()
                .filter(pk=self.instance.pk)
                .values_list("updated_at", flat=True)
                .first()
            )
            if current is None:
                raise ContactGoneError
            if version and current.isoformat() != version:
                raise StaleContactError
        replaced_photo = self.initial.get("photo") if "photo" in self.changed_data else None
        contact = super().save(commit=True)
        self.custom_fields.instance = contact
        self.custom_fields.save()
        contacts_refresh_search(contacts=[contact])  # its extra fields are searched too
        if replaced_photo:
            delete_file_after_commit(replaced_photo)
        return contact


class ContactAdminForm(ContactRulesMixin, forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["is_group", *rules.CONTACT_FIELDS]
        formfield_callback = clean_formfield
        field_classes = {"photo": PhotoField}


class SegmentForm(forms.ModelForm):
    """Save the list's search and filters as a segment (given `filterset`),
    or rename one. Only who may share (administrators) sees "shared"."""

    class Meta:
        model = Segment
        fields = ["name", "shared"]
        labels = {"name": _("Segment name"), "shared": _("Share with the team")}
        help_texts = {"shared": _("Everybody sees it above the list, each among the contacts they may see.")}

    def __init__(self, *args, user, filterset=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.filterset = filterset
        if not user.has_perm("contacts.share_segment"):
            del self.fields["shared"]
        self.fields["name"].widget.attrs.update({"autocomplete": "off", "maxlength": 80})
        style_widgets(self)

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        owner = self.instance.owner if self.instance.pk else self.user
        if Segment.objects.filter(owner=owner, name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(_("You already have a segment named “%(name)s”."), code="duplicate", params={"name": name})
        return name

    def clean(self):
        cleaned = super().clean()
        if self.filterset is not None:
            if self.filterset.segment_problem:
                raise forms.ValidationError(self.filterset.segment_problem, code="segment")
            self.instance.filters, self.instance.labels = segments.capture(self.filterset)
            self.instance.owner = self.user
        return cleaned


class OptOutLiftForm(forms.Form):
    """An administrator lifts a person's opt-out, saying why."""

    note = forms.CharField(
        label=_("Why may this person receive messages again?"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
        help_text=_("For example: they asked for it again by phone on 02/12. Kept in the contact's history."),
        error_messages={"required": _("Write why the opt-out is lifted.")},
    )
