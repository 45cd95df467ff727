import functools
from collections.abc import Iterable
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Concat, Lower
from django.db.models.lookups import Contains
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.models import historical_records
from audit.recording import Source
from jobs.models import job_file_path  # noqa: F401 (named by migration 0008)

from . import birthdays, normalizers, rules

# Columns kept by Contact.refresh_search_fields() from the others: every
# writer that changes a contact's fields writes these too; not history.
DERIVED_FIELDS = ["name_key", "search_text", "birthday_key"]


class Wallet(models.Model):
    """A "carteira": the user responsible for serving a set of contacts."""

    name = models.CharField(_("name"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible user"),
        on_delete=models.PROTECT,
        related_name="wallets",
    )

    class Meta:
        verbose_name = _("wallet")
        verbose_name_plural = _("wallets")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Tag(models.Model):
    """An "etiqueta"."""

    name = models.CharField(_("name"), max_length=50)
    color = models.CharField(
        _("color"),
        max_length=7,
        default="#0d6efd",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Use a hex colour like #0d6efd."))],
    )

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="tag_name_unique_ci",
                violation_error_message=_("A tag with this name already exists."),
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        self.name = " ".join(self.name.split())
        self.color = self.color.lower()


def is_text_search(query: str) -> bool:
    """Neither an e-mail nor a phone-like search (digits and punctuation)."""
    code = normalizers.clean_code(query)
    return "@" not in code and not normalizers.looks_like_phone(code)


# Nobody types more into a search box; past these bounds a query only costs
# (SQLite refuses LIKE patterns over 50,000 bytes and deep expression trees).
SEARCH_MAX_LENGTH = 200
# name_key's start for a contact named only by its number: "~" sorts after
# digits and a-z byte by byte, so in A-Z order they come after the named ones.
NUMBER_NAME_KEY_PREFIX = "~"
# A trigram index serves a LIKE of three characters or more.
DOCUMENT_FRAGMENT_MIN_DIGITS = 3
SEARCH_MAX_WORDS = 10
# How many of a search's words the trigram index is asked for (words_condition).
INDEXED_WORDS = 2


def clean_search(query: str) -> str:
    """The query as searched: single spaces, at most SEARCH_MAX_WORDS words
    and SEARCH_MAX_LENGTH characters; the rest is left out."""
    # NUL is never part of a search, and PostgreSQL refuses it in a query.
    words = normalizers.clean_text((query or "")[: SEARCH_MAX_LENGTH * 4].replace("\x00", "")).split()[:SEARCH_MAX_WORDS]
    return " ".join(words)[:SEARCH_MAX_LENGTH].strip()


def name_search_words(query: str) -> list[str]:
    """The folded words of a plain text search; [] for e-mail, phone and
    CPF/CNPJ searches."""
    query = clean_search(query)
    if not query or not is_text_search(query) or _try(normalizers.normalize_document, query):
        return []
    return normalizers.fold(query).split()


def words_condition(words: list[str], *, indexed: int = INDEXED_WORDS) -> Q:
    """Every word appears in the name, first/last name, company, e-mail or
    an extra field's value.

    A word found inside another word of the query is not looked for again
    ("a" in "tarde"). The trigram index (PostgreSQL) is asked for the
    INDEXED_WORDS longest words only; the others are checked on the rows it
    finds. Each word's trigrams cost the index a list of every row that
    holds them, and the words of a common phrase ("enviar boleto por
    e-mail", an extra field's value) narrow nothing the first two did not:
    the look-up took 17 ms at a million contacts, 8 ms with two words.
    `indexed` says how many words the index is asked for."""
    words = list(dict.fromkeys(words))
    words = [word for word in words if not any(word != other and word in other for other in words)]
    indexed = set(sorted(words, key=len, reverse=True)[:indexed])
    condition = Q()
    for word in words:
        if word in indexed:
            condition &= Q(search_text__contains=word)
        else:
            # The same column, written so that no index serves it.
            condition &= Contains(Concat("search_text", Value(""), output_field=models.TextField()), word)
    return condition


def unique_value(field: str, value: str, *, lookup: str = "exact") -> Q:
    """`field` equals `value` (or matches it by another `lookup`, such as
    "startswith"), written so that both databases can read it from the
    field's partial unique index (condition `field <> ''`): a partial index
    is used only when the query repeats the index's condition (PostgreSQL
    cannot infer it from a LIKE; SQLite needs it term for term), and with
    one arm of an OR unable to use an index the whole table is read."""
    return Q(**{f"{field}__{lookup}": value}) & ~Q(**{field: ""})


def _try(normalize, value: str) -> str:
    """The normalised value, or "" when `value` is not of that kind."""
    try:
        return normalize(value)
    except ValidationError:
        return ""


class ContactQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The contacts `user` may see: every one for administrators, their own
        wallets' (plus those with no wallet unless strict mode) for agents."""
        if not user.is_authenticated or not user.has_perm("contacts.view_contact"):
            return self.none()
        if user.has_perm("contacts.view_all_contacts"):
            return self
        own = Q(wallet__in=Wallet.objects.filter(user=user).values("pk"))
        if not settings.CONTACTS_STRICT_WALLETS:
            own |= Q(wallet__isnull=True)
        return self.filter(own)

    def touched_in_batch(self, *, batch: str, after: int):
        """The contacts a batch of changes (an import job) created or
        changed: those with a history record of the batch. `after` is the
        last record before the batch began: the search stays on the
        records' primary key, however long the history."""
        records = self.model.history.filter(history_id__gt=after, history_batch=batch).values("id")
        return self.filter(pk__in=records)

    def search(self, query: str):
        """Find contacts by name, company, e-mail, phone, CPF/CNPJ, Telegram
        id or the values of their extra fields.

        The kind of query decides which columns are looked at, so a name
        search never scans phone numbers and a phone search never scans names:
        - with "@": the e-mail (or an extra field's value holding one);
        - digits and phone punctuation: a whole number matches exactly (in any
          writing, old 8-digit mobiles included), a fragment matches any part
          of the stored digits, and of a CPF/CNPJ's (or of other text, such as
          an extra field's value); a CPF/CNPJ matches with or without punctuation;
          a whole Telegram id matches exactly, in any writing ("0123", "１２３");
        - anything else: every word must appear in the name, first/last name,
          company, e-mail or an extra field's value, accents and case aside
          ("joao silva" finds "João da Silva", "maria recife" finds Maria
          whose "Cidade" is Recife).
        """
        query = clean_search(query)
        if not query:
            return self
        if "@" in query:
            # search_text holds the e-mail (lower-case), and its trigram
            # index serves the fragment: one index for every text search
            # instead of a second one on the e-mail that each write keeps too.
            return self.filter(search_text__contains=normalizers.clean_code(query).lower())
        document = _try(normalizers.normalize_document, query)
        if not is_text_search(query):
            query = normalizers.clean_code(query)  # pasted dashes and marks
            phone = _try(normalizers.normalize_phone, query)
            digits = normalizers.only_digits(query)
            condition = unique_value("number", phone) if phone else Q(number__contains=digits)
            if not phone and len(digits) >= DOCUMENT_FRAGMENT_MIN_DIGITS:
                # Digits from the middle of a CPF/CNPJ: it is in search_text
                # without its mask, and search_text's trigram index serves
                # the fragment as the number's serves phone fragments.
                condition |= Q(search_text__contains=digits)
            if document:
                condition |= unique_value("cpf_cnpj", document)
            elif normalizers.looks_like_document_prefix(query):
                condition |= unique_value("cpf_cnpj", query, lookup="startswith")
            telegram_id = _try(normalizers.normalize_telegram_id, query)
            if telegram_id:
                condition |= unique_value("telegram_id", telegram_id)
            return self.filter(condition)
        words = words_condition(normalizers.fold(query).split())
        if document:  # the new alphanumeric CNPJ has letters
            return self.filter(words | unique_value("cpf_cnpj", document))
        return self.filter(words)

    def with_birthday_within(self, window: str, *, today: date):
        """Contacts whose birthday falls within `window` ("today", "week",
        "month": birthdays.WINDOWS) from `today`."""
        # A list of days, not ranges: PostgreSQL reads a list from the index
        # alone, where two ranges (across the year's end) made it read rows
        # (contact_birthday_idx holds the list's order and the wallet). One
        # day's entries are in the list's order there too.
        return self.filter(birthday_key__in=sorted(birthdays.keys_within(window, today=today)))

    def with_any_tag(self, tags):
        through = Contact.tags.through.objects.filter(contact_id=OuterRef("pk"), tag__in=tags)
        return self.filter(Exists(through))

    def opted_out(self, wished: bool = True):
        """Contacts who asked not to receive messages on some channel (an
        opt-out not lifted), or, with `wished` False, those who did not."""
        asked = Exists(OptOut.objects.active().filter(contact_id=OuterRef("pk")))
        return self.filter(asked if wished else ~asked)


class Contact(models.Model):
    name = models.CharField(_("name"), max_length=200)
    number = models.CharField(
        _("number"),
        max_length=32,
        blank=True,
        help_text=_("Country code (DDI) + area code (DDD) + number, like +55 11 98765-4321."),
    )
    email = models.EmailField(_("e-mail"), blank=True)
    cpf_cnpj = models.CharField(
        _("CPF/CNPJ"),
        max_length=18,
        blank=True,
        help_text=_("Like 529.982.247-25 or 11.222.333/0001-81."),
    )
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    first_name = models.CharField(_("first name"), max_length=100, blank=True)
    last_name = models.CharField(_("last name"), max_length=100, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    wallet = models.ForeignKey(
        Wallet,
        verbose_name=_("wallet"),
        null=True,
        blank=True,
        # A wallet's contacts are never silently let go to "no wallet", where
        # every agent would see them: they are moved to another wallet first.
        on_delete=models.PROTECT,
        related_name="contacts",
        # Indexed by contact_wallet_idx, with the id and the name.
        db_index=False,
    )
    tags = models.ManyToManyField(Tag, verbose_name=_("tags"), blank=True, related_name="contacts")
    telegram_id = models.CharField(_("Telegram id"), max_length=32, blank=True)
    photo = models.ImageField(_("photo"), upload_to="contacts/photos/%Y/%m/", blank=True)
    is_group = models.BooleanField(_("is a group"), default=False)
    # Indexed (with id) by contact_newest_idx, which serves either order.
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    # Derived columns, kept by refresh_search_fields(): folded (lower-case,
    # accent-free) text, so that "joao" finds "João" with a plain LIKE that
    # SQLite can run and a PostgreSQL trigram index can serve. search_text
    # holds the extra fields' values too: one column and one index for every
    # word searched, no join.
    name_key = models.CharField(max_length=200, editable=False, default="")
    search_text = models.TextField(editable=False, default="")
    # The birth date's day of the year, for the birthday filters (birthdays).
    birthday_key = models.PositiveSmallIntegerField(null=True, editable=False)

    objects = ContactQuerySet.as_manager()
    # The derived search columns and the save time are not history. Nothing
    # looks history up by wallet, or tag rows by contact, tag or link (a
    # contact's tags are read by record): indexes on them were only work for
    # every record written (see benchmarks/README.md).
    history = historical_records(
        m2m_fields=["tags"],
        excluded_fields=[*DERIVED_FIELDS, "updated_at"],
        no_db_index=["wallet", "contact", "tag"],
        m2m_no_db_index=["id"],
        verbose_name=_("contact history record"),
        verbose_name_plural=_("contact history"),
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name_key", "id"]
        permissions = [
            ("view_all_contacts", _("Can see the contacts of every wallet")),
            ("import_contacts", _("Can import contacts from a spreadsheet")),
            ("export_contacts", _("Can export contacts to a spreadsheet")),
            ("merge_contacts", _("Can remove duplicate contacts (merge them)")),
        ]
        indexes = [
            # The list orders. The wallet rides along (PostgreSQL; SQLite
            # ignores INCLUDE) so an agent's list, which filters on it, is
            # read from the index alone; so does the birthday in A-Z order.
            models.Index(fields=["name_key", "id"], include=["wallet", "birthday_key"], name="contact_name_key_idx"),
            models.Index(fields=["-created_at", "-id"], include=["wallet"], name="contact_newest_idx"),
            # A wallet's contacts in id order, with what the list is ordered
            # by: a wallet and a tag are counted by merging this with the tag
            # links' (contact, tag) index, from the two indexes alone
            # (PostgreSQL; benchmarks/README.md).
            models.Index(fields=["wallet", "id"], include=["name_key"], name="contact_wallet_idx"),
            # Exact e-mail look-ups (duplicates, import matching); the
            # trigram index serves the searches by part.
            models.Index(fields=["email"], condition=~Q(email=""), name="contact_email_idx"),
            # A birthday filter is counted (up to CONTACTS_COUNT_CAP, with
            # what the list is ordered by) from this index alone, and one
            # day's birthdays are read from it in A-Z order.
            models.Index(fields=["birthday_key", "name_key", "id"], include=["wallet"], name="contact_birthday_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["number"],
                condition=~Q(number=""),
                name="contact_number_unique",
                violation_error_message=_("A contact with this number already exists."),
            ),
            models.UniqueConstraint(
                fields=["telegram_id"],
                condition=~Q(telegram_id=""),
                name="contact_telegram_id_unique",
                violation_error_message=_("A contact with this Telegram id already exists."),
            ),
            # varchar_pattern_ops (PostgreSQL): the same index also serves
            # a search by the start of a CPF/CNPJ (LIKE '123%').
            models.UniqueConstraint(
                fields=["cpf_cnpj"],
                condition=~Q(cpf_cnpj=""),
                opclasses=["varchar_pattern_ops"],
                name="contact_cpf_cnpj_unique",
                violation_error_message=_("A contact with this CPF/CNPJ already exists."),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("contacts:update", args=[self.pk])

    @property
    def formatted_number(self) -> str:
        return "" if self.is_group else normalizers.format_phone(self.number)

    @property
    def number_unknown(self) -> bool:
        """A WhatsApp person known by a LID alone: the number is not known
        yet (the list prefetches the identities)."""
        if self.number or self.is_group or self.pk is None:
            return False
        return any(identity.kind == ContactIdentity.Kind.LID for identity in self.identities.all())

    @property
    def birthday_today(self) -> bool:
        return self.birthday_key is not None and self.birthday_key in birthdays.keys_within("today", today=timezone.localdate())

    @property
    def named_by_number(self) -> bool:
        return normalizers.is_number_name(self.name)

    @property
    def initials(self) -> str:
        words = [w for w in self.name.split() if w[:1].isalnum()]
        if not words:
            return "?"
        if len(words) == 1:
            return words[0][:2].upper()
        return (words[0][0] + words[-1][0]).upper()

    @property
    def avatar_hue(self) -> int:
        return (self.pk or 0) * 47 % 360

    def clean(self):
        # Every writer that validates (panel, admin) ends up here: store
        # canonical values, by the rules the import follows too.
        for name in rules.TEXT_FIELDS:
            setattr(self, name, rules.text(getattr(self, name)))
        errors = {}
        for field, rule in (
            ("number", functools.partial(rules.number, is_group=self.is_group)),
            ("cpf_cnpj", rules.cpf_cnpj),
            ("telegram_id", rules.telegram_id),
        ):
            try:
                setattr(self, field, rule(getattr(self, field)))
            except ValidationError as error:
                errors[field] = error
        self.email = rules.email(self.email)
        if errors:
            raise ValidationError(errors)

    def refresh_search_fields(self, extra_values: Iterable[str] | None = None):
        """Recompute the folded columns from the contact's fields and the
        values of its extra fields: `extra_values` when given (bulk writers
        have them at hand before bulk_create()), else those stored (a new
        contact has none yet).

        save() calls it, so the contact's own fields are always current. A
        writer that adds, changes or deletes extra fields calls
        services.contacts_refresh_search() after writing them."""
        if extra_values is None:
            extra_values = [] if self._state.adding else self.custom_fields.values_list("value", flat=True)
        self.birthday_key = birthdays.key(self.birth_date)
        folded_name = normalizers.fold(self.name)[:200]
        # Contacts named only by their number sort after the named ones.
        # Fields only, no properties: the import calls this on plain rows.
        self.name_key = (NUMBER_NAME_KEY_PREFIX + folded_name)[:200] if normalizers.is_number_name(self.name) else folded_name
        self.search_text = " | ".join(
            part
            for part in (
                folded_name,
                normalizers.fold(f"{self.first_name} {self.last_name}"),
                normalizers.fold(self.company),
                self.email.lower(),
                *(normalizers.fold(value) for value in extra_values),
                # Last: migration 0016 appended it to the rows it found.
                normalizers.document_search_key(self.cpf_cnpj),
            )
            if part
        )

    def save(self, *args, **kwargs):
        self.refresh_search_fields()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, *DERIVED_FIELDS}
        if not self._state.adding and not kwargs.get("force_insert"):
            # A contact deleted meanwhile stays deleted: without this, Django
            # falls back to an INSERT that brings it back with the old id.
            # Raises Contact.NotUpdated.
            kwargs["force_update"] = True
        super().save(*args, **kwargs)


class CustomField(models.Model):
    """An "Adicionar Informação" row: a named extra value on one contact."""

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="custom_fields"
    )
    name = models.CharField(_("name"), max_length=100)
    value = models.CharField(_("value"), max_length=500, blank=True)

    history = historical_records(
        verbose_name=_("additional information history record"),
        verbose_name_plural=_("additional information history"),
    )

    def clean(self):
        # A name with nothing beside it would be an empty row on the contact;
        # the panel's form and the admin's inline both validate through here.
        if self.name.strip() and not self.value.strip():
            raise ValidationError(
                {
                    "value": ValidationError(
                        _("Fill in the value of “%(name)s”, or remove the field."),
                        code="value_required",
                        params={"name": self.name.strip()},
                    )
                }
            )

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                "contact",
                Lower("name"),
                name="customfield_name_unique_per_contact",
                violation_error_message=_("This contact already has a field with this name."),
            ),
        ]

    def __str__(self):
        return f"{self.name}: {self.value}"




class SegmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The segments `user` may use: their own and those shared with the
        team; none for who may not see contacts."""
        if not user.is_authenticated or not user.has_perm("contacts.view_contact"):
            return self.none()
        return self.filter(Q(owner=user) | Q(shared=True))

    def changeable_by(self, user):
        """The segments `user` may rename or delete: their own, and the
        team's for who may share (administrators)."""
        if user.is_authenticated and user.has_perm("contacts.share_segment"):
            return self.visible_to(user)
        return self.visible_to(user).filter(owner=user)


class Segment(models.Model):
    """A saved search: the list's search and filters under a name, for its
    owner or shared with the team. `filters` holds the list's parameters as
    the address carries them (tags and wallet by id, so a renamed tag still
    applies); `labels` the names they had when saved, to say which tag or
    wallet was deleted since (contacts.segments)."""

    name = models.CharField(_("name"), max_length=80)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="contact_segments"
    )
    shared = models.BooleanField(_("shared with the team"), default=False)
    filters = models.JSONField(_("filters"), default=dict)
    labels = models.JSONField(_("names of its tags and wallet"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = SegmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "id"]
        permissions = [("share_segment", _("Can share saved segments with the team"))]
        constraints = [
            models.UniqueConstraint(
                "owner",
                Lower("name"),
                name="segment_name_unique_per_owner",
                violation_error_message=_("You already have a segment with this name."),
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("contacts:list") + f"?segment={self.pk}"


class MergeRecord(models.Model):
    """One merge of duplicates: who, when, through what, into which
    contact (the survivor), with a snapshot of every contact merged into
    it (MergedContact), so that nothing a merge removes is unrecoverable."""

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    source = models.CharField(_("through"), max_length=16, choices=Source.choices)
    # Kept when the survivor is deleted later: the record still tells.
    survivor = models.ForeignKey(
        Contact, verbose_name=_("kept contact"), null=True, blank=True, on_delete=models.SET_NULL, related_name="merge_records"
    )
    survivor_name = models.CharField(_("kept contact's name"), max_length=200)
    rules = models.JSONField(_("why"), default=list, blank=True)
    # When the merge was undone (dedup.merging.undo), if it was.
    undone_at = models.DateTimeField(_("undone at"), null=True, blank=True)

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.survivor_name} · {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def undoable(self) -> bool:
        """Whether "undo" may be offered: within MERGE_UNDO_DAYS, and
        recorded with what an undo needs (dedup.merging.undo says more)."""
        from datetime import timedelta

        if self.undone_at is not None or self.created_at < timezone.now() - timedelta(days=settings.MERGE_UNDO_DAYS):
            return False
        return all("message_ids" in merged.snapshot for merged in self.contacts.all())


class MergedContact(models.Model):
    """A contact merged into another and removed: its id (for the merges
    and lookups that still name it) and everything it had."""

    record = models.ForeignKey(MergeRecord, verbose_name=_("merge"), on_delete=models.CASCADE, related_name="contacts")
    contact_id = models.BigIntegerField(_("contact id"), db_index=True)
    name = models.CharField(_("name"), max_length=200)
    # Fields, tags, extra fields, the tickets moved and the messages count.
    snapshot = models.JSONField(_("snapshot"), default=dict)

    class Meta:
        verbose_name = _("merged contact")
        verbose_name_plural = _("merged contacts")
        ordering = ["id"]

    def __str__(self):
        return self.name


class ContactIdentity(models.Model):
    """An address a contact is known by besides its own number and Telegram
    id: the number or Telegram id of a contact merged into it (messages
    that arrive later from it reach the survivor, and a contact created
    with it later is found duplicate), or a WhatsApp LID ("<digits>@lid",
    the address WhatsApp uses instead of the number it hides).

    A LID is remembered with the number it stands for as soon as the
    gateway reveals the pair, even before anybody with either is a contact
    (then `contact` is empty): the first message from either reaches the
    one contact."""

    class Kind(models.TextChoices):
        NUMBER = "number", _("number")
        TELEGRAM_ID = "telegram_id", _("Telegram id")
        LID = "lid", _("WhatsApp LID")

    class Seen(models.TextChoices):
        MERGE = "merge", _("merge of duplicates")
        MESSAGE = "message", _("received message")
        GATEWAY = "gateway", _("the WhatsApp gateway's contacts")
        SYNC = "sync", _("sync")

    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), null=True, blank=True, on_delete=models.CASCADE, related_name="identities"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    value = models.CharField(_("value"), max_length=32)
    # A LID's phone number (as Contact.number stores it), once revealed.
    number = models.CharField(_("number"), max_length=32, blank=True)
    seen = models.CharField(_("seen in"), max_length=16, choices=Seen.choices, default=Seen.MERGE)
    # Where: the channel's name, when it came through one.
    place = models.CharField(_("where"), max_length=100, blank=True)
    seen_at = models.DateTimeField(_("seen at"), default=timezone.now)
    merged = models.ForeignKey(MergedContact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("contact identity")
        verbose_name_plural = _("contact identities")
        ordering = ["kind", "seen_at", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "value"], name="contact_alias_unique")]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.value}"

    @property
    def display_value(self) -> str:
        if self.kind == self.Kind.NUMBER:
            return normalizers.format_phone(self.value)
        return self.value


class OptOutQuerySet(models.QuerySet):
    def active(self):
        """Not lifted: the person still does not wish to receive messages."""
        return self.filter(lifted_at__isnull=True)


class OptOut(models.Model):
    """A person's wish not to receive messages on one channel ("SAIR",
    "PARAR", "STOP", "DESCADASTRAR"), with the message that said it as
    evidence. Only an administrator lifts it, with a note; imports and
    edits of the contact never touch it.

    The channel is the tickets app's, which sits above contacts: named by
    id and by name, not by a foreign key."""

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="opt_outs")
    channel_id = models.BigIntegerField(_("channel id"))
    channel_name = models.CharField(_("channel"), max_length=100)
    # The message as the person wrote it, and when; its id in the tickets app.
    evidence = models.TextField(_("message"))
    message_id = models.BigIntegerField(_("message id"), null=True, blank=True)
    asked_at = models.DateTimeField(_("asked at"))
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("lifted by"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lifted_by_name = models.CharField(_("lifted by"), max_length=150, blank=True)
    lift_note = models.TextField(_("note"), blank=True)

    objects = OptOutQuerySet.as_manager()
    history = historical_records(
        no_db_index=["lifted_by"],
        verbose_name=_("opt-out history record"),
        verbose_name_plural=_("opt-out history"),
    )

    class Meta:
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")
        ordering = ["-asked_at", "-id"]
        permissions = [("lift_optout", _("Can lift a contact's opt-out"))]
        # Not unique: a merge of two people who both opted out on a channel
        # keeps both pieces of evidence (lifting one lifts both).
        indexes = [models.Index(fields=["contact", "channel_id"], condition=Q(lifted_at__isnull=True), name="optout_active_idx")]

    def __str__(self):
        return f"{self.contact_id} · {self.channel_name}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None
