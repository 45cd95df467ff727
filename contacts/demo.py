"""Realistic pt-BR demo data: names with accents, valid CPFs and CNPJs,
mobile and landline numbers from real area codes, Telegram ids, wallets,
tags and extra fields, a few WhatsApp and Telegram groups and a few people
with photos. Built for speed: a million contacts are written in batches."""

import colorsys
import random
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from io import BytesIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.db import transaction
from PIL import Image, ImageDraw

from .images import normalize_photo
from .models import Contact, CustomField, Tag, Wallet
from .normalizers import fold
from .services import refresh_planner_statistics

FIRST_NAMES = (
    "Ana Beatriz Bruno Camila Carlos Cecília Daniel Débora Eduardo Fernanda Felipe Gabriel Giovana "
    "Gustavo Helena Igor Isabela João Júlia Larissa Leonardo Letícia Lucas Luíza Marcelo Maria Mariana "
    "Matheus Natália Otávio Patrícia Paulo Pedro Rafael Raquel Renata Ricardo Rodrigo Sabrina Sérgio "
    "Sofia Tatiane Thiago Valéria Vinícius Vitória Wagner Yasmin Antônio Conceição Francisco Luciana "
    "Márcio Sebastião Cláudia Fábio Simone Rogério Aline André Bianca Caio Diego Elaine Emanuel Flávia"
).split()
LAST_NAMES = (
    "Silva Santos Oliveira Souza Rodrigues Ferreira Alves Pereira Lima Gomes Costa Ribeiro Martins "
    "Carvalho Almeida Lopes Soares Fernandes Vieira Barbosa Rocha Dias Nascimento Andrade Moreira Nunes "
    "Marques Machado Mendes Freitas Cardoso Ramos Gonçalves Santana Teixeira Araújo Cavalcanti Brandão "
    "Magalhães Conceição Sá Brito Camargo Monteiro Guimarães Peixoto Correia Assunção Queiroz Falcão"
).split()
COMPANIES = (
    "Padaria Pão Quente", "Mercadinho São José", "Auto Peças Avenida", "Clínica Bem-Estar",
    "Construtora Horizonte", "Ótica Visão Clara", "Farmácia Popular do Bairro", "Escola Aprender",
    "Transportadora Rápida", "Imobiliária Lar Doce Lar", "Restaurante Sabor Mineiro", "Pet Shop Amigo Fiel",
)
AREA_CODES = (11, 11, 11, 12, 13, 15, 19, 21, 21, 24, 27, 31, 31, 41, 43, 47, 48, 51, 54, 61, 62, 67, 71, 79, 81, 85, 91, 92, 98)
MAIL_DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com.br", "uol.com.br", "bol.com.br")
TAGS = (
    ("Cliente", "#198754"), ("Lead", "#0d6efd"), ("VIP", "#d63384"), ("Suporte", "#fd7e14"),
    ("Financeiro", "#6f42c1"), ("Inadimplente", "#dc3545"), ("Parceiro", "#20c997"),
)
EXTRA_FIELDS = (
    ("Plano", ("Básico", "Pro", "Empresarial")),
    ("Cidade", ("São Paulo", "Rio de Janeiro", "Belo Horizonte", "Curitiba", "Recife", "Salvador")),
    ("Canal de origem", ("Instagram", "Indicação", "Google", "Loja física")),
    ("Observação", ("Prefere contato à tarde", "Só por WhatsApp", "Enviar boleto por e-mail", "Cliente desde 2019")),
    ("Pedido", None),  # a number of its own: see _extra_value()
)
# WhatsApp groups are stored with their group id in `number`; Telegram
# groups and channels have a negative Telegram id instead.
GROUPS = (
    ("Vendas SP", "whatsapp"),
    ("Suporte VIP", "whatsapp"),
    ("Clientes Atacado", "whatsapp"),
    ("Revendedores Rio de Janeiro", "whatsapp"),
    ("Avisos da Loja", "telegram"),
    ("Comunidade Parceiros", "telegram"),
)
# Every run adds at most this many of each, fewer for small runs: enough to
# try the type filter and the photo column, and seeding a million stays fast.
MAX_GROUPS = len(GROUPS)
MAX_PHOTOS = 12
DEMO_USERS = (
    # username, full name, role, wallet name
    ("admin", "Administrador", "Administrators", "Comercial"),
    ("ana", "Ana Paula Ribeiro", "Agents", "Carteira Ana"),
    ("bruno", "Bruno Teixeira", "Agents", "Carteira Bruno"),
)


def _check_digit(digits: list[int], weights: range | list[int]) -> int:
    rest = sum(d * w for d, w in zip(digits, weights, strict=False)) % 11
    return 0 if rest < 2 else 11 - rest


def make_cpf(rng: random.Random) -> str:
    base = [rng.randrange(10) for _ in range(9)]
    if len(set(base)) == 1:
        base[0] = (base[0] + 1) % 10
    base.append(_check_digit(base, range(10, 1, -1)))
    base.append(_check_digit(base, range(11, 1, -1)))
    s = "".join(map(str, base))
    return f"{s[:3]}.{s[3:6]}.{s[6:9]}-{s[9:]}"


def make_cnpj(rng: random.Random) -> str:
    base = [rng.randrange(10) for _ in range(8)] + [0, 0, 0, 1]
    base.append(_check_digit(base, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]))
    base.append(_check_digit(base, [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]))
    s = "".join(map(str, base))
    return f"{s[:2]}.{s[2:5]}.{s[5:8]}/{s[8:12]}-{s[12:]}"


def make_whatsapp_group_id(rng: random.Random) -> str:
    """Like "120363025246125888": what WhatsApp gives groups created today."""
    return f"120363{rng.randrange(10**12):012d}"


def make_telegram_group_id(rng: random.Random) -> str:
    """Like "-1001234567890": Telegram supergroups and channels."""
    return f"-100{rng.randrange(10**9, 10**10)}"


def make_avatar(rng: random.Random) -> bytes:
    """A small PNG portrait: a head and shoulders on a coloured background."""
    hue = rng.random()
    background = _rgb(hue, 0.80, 0.45)
    figure = _rgb(hue, 0.95, 0.25)
    image = Image.new("RGB", (160, 160), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((52, 28, 108, 84), fill=figure)
    draw.ellipse((24, 96, 136, 208), fill=figure)
    output = BytesIO()
    image.save(output, "PNG")
    return output.getvalue()


def _rgb(hue: float, lightness: float, saturation: float) -> tuple[int, int, int]:
    return tuple(round(channel * 255) for channel in colorsys.hls_to_rgb(hue, lightness, saturation))


def make_number(rng: random.Random) -> str:
    ddd = rng.choice(AREA_CODES)
    if rng.random() < 0.9:
        return f"55{ddd}9{rng.randrange(10**8):08d}"
    return f"55{ddd}{rng.randrange(2, 6)}{rng.randrange(10**7):07d}"


@dataclass
class DemoLogin:
    username: str
    password: str | None  # None: the user existed already
    role: str


def ensure_demo_users() -> list[DemoLogin]:
    """The demo's administrator and two agents, each with a wallet."""
    User = get_user_model()
    logins = []
    for username, full_name, role, wallet_name in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        password = None
        if user is None:
            password = secrets.token_urlsafe(9)
            first, _, last = full_name.partition(" ")
            user = User.objects.create_user(
                username, password=password, first_name=first, last_name=last,
                is_staff=role == "Administrators", is_superuser=role == "Administrators",
            )
        user.groups.add(Group.objects.get(name=role))
        Wallet.objects.get_or_create(name=wallet_name, defaults={"user": user})
        logins.append(DemoLogin(username, password, role))
    return logins


def ensure_tags() -> list[Tag]:
    tags = []
    for name, color in TAGS:
        tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name, color=color)
        tags.append(tag)
    return tags


def _unique(rng: random.Random, make, taken: set[str]) -> str:
    while True:
        value = make(rng)
        if value not in taken:
            taken.add(value)
            return value


@dataclass
class DemoContact:
    contact: Contact
    extra_fields: list[tuple[str, str]] = field(default_factory=list)


def _contacts(
    count: int, rng: random.Random, wallets: list[Wallet], taken: dict[str, set[str]], *, groups: int, photos: int
) -> Iterator[DemoContact]:
    """`count` contacts: first `groups` groups, then people, the first
    `photos` of them with a photo."""
    for name, network in GROUPS[:groups]:
        group = Contact(name=name, is_group=True, wallet=rng.choice(wallets) if wallets else None)
        if network == "whatsapp":
            group.number = _unique(rng, make_whatsapp_group_id, taken["number"])
        else:
            group.telegram_id = _unique(rng, make_telegram_group_id, taken["telegram_id"])
        yield _with_extra_fields(group, rng)
    for position in range(count - groups):
        person = _person(rng, wallets, taken)
        if position < photos:
            # Stored like an upload in the panel: re-encoded, under a random
            # name, through the photo field's storage when the row is written.
            person.photo = normalize_photo(ContentFile(make_avatar(rng), name="avatar.png"))
        yield _with_extra_fields(person, rng)


def _person(rng: random.Random, wallets: list[Wallet], taken: dict[str, set[str]]) -> Contact:
    today = date.today()
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    middle = rng.choice(LAST_NAMES) if rng.random() < 0.5 else ""
    name = " ".join(p for p in (first, middle, last) if p)
    is_company = rng.random() < 0.08
    contact = Contact(
        name=name,
        first_name=first,
        last_name=" ".join(p for p in (middle, last) if p),
        number=_unique(rng, make_number, taken["number"]),
        wallet=rng.choice(wallets) if wallets and rng.random() < 0.8 else None,
    )
    if rng.random() < 0.6:
        user = fold(f"{first}.{last}").replace(" ", "")
        contact.email = f"{user}{rng.randrange(10000)}@{rng.choice(MAIL_DOMAINS)}"
    if is_company:
        contact.company = rng.choice(COMPANIES)
        contact.cpf_cnpj = _unique(rng, make_cnpj, taken["cpf_cnpj"])
    elif rng.random() < 0.35:
        contact.cpf_cnpj = _unique(rng, make_cpf, taken["cpf_cnpj"])
    if rng.random() < 0.5:
        contact.birth_date = today - timedelta(days=rng.randrange(18 * 365, 80 * 365))
    if rng.random() < 0.2:
        contact.telegram_id = _unique(rng, lambda r: str(r.randrange(10**8, 10**10)), taken["telegram_id"])
    return contact


def _with_extra_fields(contact: Contact, rng: random.Random) -> DemoContact:
    demo = DemoContact(contact)
    if rng.random() < 0.15:
        field_name, values = rng.choice(EXTRA_FIELDS)
        demo.extra_fields.append((field_name, _extra_value(rng, values)))
    # Searched with the contact: computed here, as bulk_create() skips save().
    contact.refresh_search_fields([value for _, value in demo.extra_fields])
    return demo


def _extra_value(rng: random.Random, values: tuple[str, ...] | None) -> str:
    if values is None:
        return f"PED-{rng.randrange(10**6):06d}"
    return rng.choice(values)


def create_demo_contacts(*, count: int, seed: int | None = None, batch_size: int = 5000) -> int:
    """Create `count` demo contacts with tags and extra fields, in batches,
    each batch atomic; a few of them groups and a few with a photo (see
    MAX_GROUPS and MAX_PHOTOS). Returns the number created."""
    rng = random.Random(seed)
    wallets = list(Wallet.objects.all())
    tags = ensure_tags()
    taken = {
        column: set(Contact.objects.exclude(**{column: ""}).values_list(column, flat=True).iterator())
        for column in ("number", "cpf_cnpj", "telegram_id")
    }
    Through = Contact.tags.through
    created = 0
    generator = _contacts(
        count, rng, wallets, taken, groups=min(MAX_GROUPS, count // 20), photos=min(MAX_PHOTOS, count // 10)
    )
    while created < count:
        batch = [demo for _, demo in zip(range(min(batch_size, count - created)), generator, strict=False)]
        with transaction.atomic():
            Contact.objects.bulk_create([demo.contact for demo in batch], batch_size=batch_size)
            links, extras = [], []
            for demo in batch:
                contact = demo.contact
                for tag in rng.sample(tags, k=rng.choice((0, 0, 1, 1, 1, 2))):
                    links.append(Through(contact_id=contact.pk, tag_id=tag.pk))
                for field_name, value in demo.extra_fields:
                    extras.append(CustomField(contact_id=contact.pk, name=field_name, value=value))
            Through.objects.bulk_create(links, batch_size=batch_size)
            CustomField.objects.bulk_create(extras, batch_size=batch_size)
        created += len(batch)
    refresh_planner_statistics()
    return created


def create_demo_duplicates(*, count: int, seed: int | None = None) -> int:
    """`count` duplicates of existing demo people, as a desk that has run
    for years has them ("Remover duplicados" finds them): a mobile written
    before the 9th digit, an e-mail in capitals, a CPF without its
    punctuation. They are written as stored long ago, without the
    normalising a form would do, each with a newer creation date than its
    original. Returns the number created."""
    rng = random.Random(seed)
    candidates = Contact.objects.filter(is_group=False, photo="").exclude(number="").exclude(email="")
    ids = list(candidates.values_list("pk", flat=True))
    chosen = rng.sample(ids, min(len(ids), count * 10))
    people = sorted(Contact.objects.filter(pk__in=chosen), key=lambda person: chosen.index(person.pk))
    twins = []
    for person in people:
        if len(twins) == count:
            break
        kind = len(twins) % 3
        subscriber = person.number[4:]
        if kind == 0 and len(person.number) == 13 and subscriber[0] == "9" and subscriber[1] in "6789":
            twin = Contact(name=person.name.split()[0], number=person.number[:4] + subscriber[1:])
        elif kind == 1:
            twin = Contact(name=person.name, email=person.email.upper())
        elif kind == 2 and person.cpf_cnpj and len(person.cpf_cnpj) == 14:
            twin = Contact(name=person.name, cpf_cnpj=re.sub(r"\D", "", person.cpf_cnpj), company=rng.choice(COMPANIES))
        else:
            continue
        twin.refresh_search_fields()
        twins.append(twin)
    Contact.objects.bulk_create(twins)
    return len(twins)
