"""Whatever anybody sends to any address of the site (garbage in the path,
the query string or the form, with or without htmx, as an administrator,
an agent or nobody) the answer is a page, a redirect or a refusal: never
a server error.

Every URL pattern is visited, its path filled with the ids of real objects
(a contact, a ticket, a job of each kind...) and with garbage. Each page is
asked for with garbage in its real parameters (those of the list's filters,
and those its own forms and links carry) and in made-up ones, and each form
is sent with garbage in each of its fields, one at a time (the others as
the page filled them in) and all at once. Each request runs in a savepoint
rolled back afterwards, so every request meets the same objects."""

import html.parser
import io
import random
import re
import uuid
import zipfile
from datetime import timedelta
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from bulk.models import Action
from bulk.services import Target, bulk_prepare
from contacts.models import Contact, CustomField, MergeRecord, OptOut, Segment
from contacts.tests.factories import ContactFactory, TagFactory, UserFactory, WalletFactory
from dedup.merging import contacts_merge
from dedup.models import DuplicateGroup
from jobs.models import Job
from tickets.models import Channel, Message, MessageMedia, Ticket

pytestmark = pytest.mark.django_db

LONG = "x" * 10_000

#: What a person, a bookmark or a script may put where a value is expected.
GARBAGE = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "1e309",
    "NaN",
    str(2**31),
    str(2**63),
    str(2**64),
    str(-(2**63) - 1),
    "9" * 40,
    "²",  # a digit to str.isdigit(), not to int()
    "١٢",  # Arabic-Indic digits
    "𝟙",
    LONG,
    "\x00",
    "a\x00b",
    "<script>alert(1)</script>",
    '{"id": 1, "tag": [1, 2], "q": null}',
    "[1, 2]",
    "null",
    "true",
    "'; DROP TABLE contacts_contact; --",
    "%_\\",
    "../../etc/passwd",
    "00000000-0000-0000-0000-000000000000",
    "31/02/2024",
    "2024-13-45T25:61:00",
    "\u202e\u200b\ufeff",
    "🚀" * 5,
]
#: The nastiest of them, for the sweeps of every field one at a time.
SHORT_GARBAGE = ["", str(2**64), "²", LONG, "a\x00b"]

#: Query strings and bodies that are not UTF-8, or not well formed.
RAW_VALUES = ["%ED%A0%80", "%FF%FE", "%C0%AF", "%00", "\xff\xfe", "\xed\xa0\x80", "%", "%zz", "%uD800"]

#: Parameters read by the site's pages (the contact list's filters, the
#: pages' own), sent to every page; with made-up ones.
PARAMETERS = [
    "q", "wallet", "tag", "birthday", "sort", "page", "page_size", "per_page", "segment", "imported", "type", "optout",
    "view", "channel", "status", "version", "show", "other", "everyone", "contact", "all", "query", "action",
    "name", "number", "next", "o", "p", "e", "_popup", "_to_field", "_changelist_filters", "language", "kind", "group", "undo",
    "typed", "conflicts", "format", "text", "reason", "note", "confirmation", "shared", "form_token", "id",
    "foo", "__proto__",
]

#: Made-up fields sent with every form.
EXTRA_FIELDS = ["foo", "id", "pk", "user", "owner", "filters", "is_group", "DELETE"]

#: Fields the site reads that no page's form shows.
HIDDEN_FIELDS = ["all", "query", "contact", "group", "undo", "typed", "other", "channel", "reason", "version", "form_token", "next"]


def views(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


ROUTES = list(views(get_resolver().url_patterns))
CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
#: What each converter gets when no object fits.
WRONG_IDS = {
    "int": ["0", str(2**63), "9" * 30],
    "uuid": [str(uuid.UUID(int=1))],
    "str": ["x", "%00", "%ED%A0%80", "a" * 300],
    "path": ["x", "-1", "9" * 30, "%00", "a%2Fb", "%ED%A0%80"],
    None: ["x"],
}
#: Addresses by regular expression rather than by path converters.
REGEX_ROUTES = {
    "^admin/(?P<old>contacts/auditevent|contacts/job|tickets/syncjob)/(?P<rest>.*)$": [
        "/admin/contacts/auditevent/",
        "/admin/contacts/job/1/change/",
        "/admin/tickets/syncjob/%00/x",
        "/admin/contacts/job/" + "a" * 300,
    ],
    "admin/^(?P<app_label>auth|jobs|django_tasks_database|axes|audit|contacts|tickets)/$": ["/admin/contacts/", "/admin/tickets/"],
    "admin/(?P<url>.*)$": ["/admin/nothing/here", "/admin/%00", "/admin/contacts/contact/%ED%A0%80/x/"],
}


class World:
    """One of everything the pages show, for their paths and their forms."""

    def __init__(self):
        administrators, agents = Group.objects.get(name="Administrators"), Group.objects.get(name="Agents")
        self.superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
        self.admin = UserFactory(username="alice-admin", is_staff=True)
        self.admin.groups.add(administrators)
        self.agent = UserFactory(username="ana")
        self.agent.groups.add(agents)
        other_agent = UserFactory(username="bruno")
        other_agent.groups.add(agents)
        self.wallet = WalletFactory(name="Carteira Ana", user=self.agent)
        other_wallet = WalletFactory(name="Carteira Bruno", user=other_agent)
        vip, lead = TagFactory(name="VIP"), TagFactory(name="Lead")
        self.contact = ContactFactory(
            name="Maria Souza", number="5511987654321", telegram_id="424242", email="maria@exemplo.com.br", wallet=self.wallet, tags=[vip]
        )
        CustomField.objects.create(contact=self.contact, name="Cargo", value="Gerente")
        other = ContactFactory(name="João Lima", number="5511912345678", wallet=other_wallet, tags=[lead])
        twin = ContactFactory(name="Maria Souza", number="5511987654322", wallet=self.wallet)
        ContactFactory(name="Grupo Clientes", number="120363000000000001", is_group=True, wallet=None)
        self.photo_contact = ContactFactory(name="Com Foto", number="5511955554444", wallet=self.wallet)
        self.photo_contact.photo.save("photo.png", ContentFile(b"not really a png"))
        merged = ContactFactory(name="Maria S.", number="5511987650000", wallet=self.wallet)
        contacts_merge(groups=[[self.contact.pk, merged.pk]], rules=[["manual"]])

        self.whatsapp = Channel.objects.create(kind="whatsapp", name="WhatsApp", address="+55 11 90000-0000", webhook_secret="w" * 32)
        self.telegram = Channel.objects.create(kind="telegram", name="Bot", address="@bot", webhook_secret="t" * 32)
        self.ticket = Ticket.objects.create(contact=self.contact, channel=self.whatsapp, user=self.agent)
        closed = Ticket.objects.create(contact=self.contact, channel=self.telegram, user=self.agent, status=Ticket.Status.CLOSED)
        Ticket.objects.create(contact=other, channel=self.whatsapp, user=other_agent)
        now = timezone.now()
        text = Message.objects.create(
            channel=self.whatsapp, external_id="IN1", chat_id="5511987654321@s.whatsapp.net", ticket=self.ticket,
            contact=self.contact, body="Olá", sent_at=now,
        )
        Message.objects.create(
            channel=self.whatsapp, external_id="OUT1", chat_id="5511987654321@s.whatsapp.net", ticket=self.ticket,
            contact=self.contact, body="Oi", from_me=True, sent_by=self.agent, delivery=Message.Delivery.FAILED,
            error="gateway down", sent_at=now,
        )
        photo = Message.objects.create(
            channel=self.telegram, external_id="IN2", chat_id="424242", ticket=closed, contact=self.contact,
            kind=Message.Kind.IMAGE, sent_at=now,
        )
        stored = MessageMedia(message=photo, kind=MessageMedia.Kind.IMAGE, status=MessageMedia.Status.STORED, content_type="image/png", size=3)
        stored.file.save("photo.png", ContentFile(b"png"), save=False)
        stored.thumbnail.save("thumb.jpg", ContentFile(b"jpg"), save=False)
        stored.save()
        voice = Message.objects.create(
            channel=self.whatsapp, external_id="IN3", chat_id="5511987654321@s.whatsapp.net", ticket=self.ticket,
            contact=self.contact, kind=Message.Kind.AUDIO, sent_at=now,
        )
        MessageMedia.objects.create(message=voice, kind=MessageMedia.Kind.VOICE, status=MessageMedia.Status.FAILED, source={"id": "x"})
        self.opt_out = OptOut.objects.create(
            contact=twin, channel_id=self.whatsapp.pk, channel_name="WhatsApp", evidence="PARE", message_id=text.pk, asked_at=now
        )

        self.segment = Segment.objects.create(name="VIPs", owner=self.agent, filters={"tag": [vip.pk], "q": "maria"})
        Segment.objects.create(name="Time", owner=self.admin, shared=True, filters={"wallet": str(other_wallet.pk), "birthday": "week"})
        Segment.objects.create(name="Velho", owner=self.agent, filters={"tag": [999999], "wallet": "x"})

        self.jobs = []
        for user in (self.admin, self.agent):
            draft = Job(
                kind=Job.Kind.IMPORT_PREVIEW, user=user, status=Job.Status.DRAFT, file_name="planilha.csv",
                parameters={
                    "headers": ["Nome", "Telefone", "Etiquetas", ""], "columns": [0, 1, 2, 3],
                    "sample": [["Maria", "11987654321", "VIP", ""]], "values": [1, 1, 1, 0],
                },
            )
            draft.source_file.save("planilha", ContentFile("Nome;Telefone;Etiquetas;\nMaria;11987654321;VIP;\n"), save=False)
            draft.save()
            self.jobs.append(draft)
            self.jobs.append(Job.objects.create(
                kind=Job.Kind.IMPORT_PREVIEW, user=user, status=Job.Status.DONE, file_name="planilha.csv",
                parameters={**draft.parameters, "mapping": ["name", "number", "tags", ""]}, source_file=draft.source_file.name,
                result={"kinds": {"created": 1, "conflict": 0}, "rows": 1}, total=1,
            ))
            export = Job(kind=Job.Kind.EXPORT, user=user, status=Job.Status.DONE, result={"rows": 1})
            export.result_file.save("contatos.csv", ContentFile("Nome\nMaria\n"), save=False)
            export.save()
            self.jobs.append(export)
            self.jobs.append(Job.objects.create(
                kind=Job.Kind.IMPORT, user=user, status=Job.Status.FAILED, file_name="planilha.csv",
                source_file=draft.source_file.name, parameters={**draft.parameters, "mapping": ["name", "number", "tags", ""]},
            ))
            self.jobs.append(bulk_prepare(user=user, contacts=Contact.objects.visible_to(user), target=Target(Action.ADD_TAG, tag=lead)))
        counts = {"groups": 1, "contacts": 1, "tickets": 0, "messages": 0}
        search = Job.objects.create(kind=Job.Kind.DUPLICATES, user=self.admin, status=Job.Status.DONE, result=counts)
        DuplicateGroup.objects.create(job=search, contact_ids=[self.contact.pk, twin.pk], rules=["name"])
        self.jobs.append(search)
        self.jobs.append(Job.objects.create(
            kind=Job.Kind.MERGE, user=self.admin, status=Job.Status.DONE,
            parameters={"search": search.pk, "search_token": str(search.token), "groups": None},
            result={**counts, "survivors": [[self.contact.pk, self.contact.name]]},
        ))
        self.sync = Job.objects.create(kind=Job.Kind.SYNC, user=self.admin, status=Job.Status.RUNNING, parameters={"sync_job": 7})
        self.jobs.append(self.sync)
        self.jobs.append(Job.objects.create(
            kind=Job.Kind.EXPORT, user=self.admin, status=Job.Status.DONE, result={"rows": 1}, finished_at=now - timedelta(days=400)
        ))

    def ids(self, route: str, name: str) -> list[str]:
        """Real values for the path converter `name` of `route`."""
        if name == "token":
            return [str(job.token) for job in self.jobs]
        if name == "which":
            return ["result", "report"]
        if name == "contact_id":
            return [str(pk) for pk in Contact.objects.order_by("pk").values_list("pk", flat=True)[:3]]
        if name == "channel_id":
            return [str(self.whatsapp.pk), str(self.telegram.pk)]
        if name == "content_type_id":
            return [str(ContentType.objects.get_for_model(Contact).pk)]
        if route.startswith("admin/r/"):
            return [str(self.contact.pk)]
        if route.startswith("admin/") and route.count("/") >= 3:
            app_label, model_name = route.split("/")[1:3]
            model = apps.get_model(app_label, model_name)
            return [str(pk) for pk in model._default_manager.order_by("pk").values_list("pk", flat=True)[:2]]
        for prefix, model in [
            ("contacts/segments/", Segment),
            ("contacts/opt-outs/", OptOut),
            ("contacts/merges/", MergeRecord),
            ("tickets/messages/", Message),
            ("tickets/media/", MessageMedia),
            ("tickets/", Ticket),
            ("contacts/", Contact),
        ]:
            if route.startswith("tickets/sync/"):
                return [str(self.sync.parameters["sync_job"])]
            if route.startswith(prefix):
                return [str(pk) for pk in model.objects.order_by("pk").values_list("pk", flat=True)[:3]]
        return []

    def values(self) -> dict[str, list[str]]:
        """Values a parameter of that name takes when it makes sense, mixed
        with the garbage so that the garbage meets real filters."""
        return {
            "wallet": [str(self.wallet.pk), "none"],
            "tag": [str(pk) for pk in Contact.tags.through.objects.values_list("tag_id", flat=True)[:1]],
            "segment": [str(self.segment.pk)],
            "imported": [str(self.jobs[1].token)],
            "contact": [str(self.contact.pk)],
            "other": [str(self.photo_contact.pk)],
            "channel": [str(self.whatsapp.pk)],
            "sort": ["newest"],
            "birthday": ["today"],
            "type": ["groups"],
            "optout": ["yes"],
            "view": ["all"],
            "q": ["maria", "maria souza 11 9876"],
            "action": ["add_tag", "move", "export"],
            "all": ["1"],
        }


def paths(route: str, world: World) -> tuple[list[str], list[str]]:
    """The route's addresses: with real objects' ids, and with wrong ones."""
    if route in REGEX_ROUTES:
        return REGEX_ROUTES[route][:1], REGEX_ROUTES[route][1:]
    converters = CONVERTER.findall(route)
    if not converters:
        return ["/" + route], []

    def filled(choice):
        return "/" + CONVERTER.sub(lambda match: choice[match.group(2)], route)

    real = {name: world.ids(route, name) or WRONG_IDS[kind or None][:1] for kind, name in converters}
    first = {name: values[0] for name, values in real.items()}
    found = [filled(first)]
    wrong = []
    for kind, name in converters:
        found += [filled({**first, name: value}) for value in real[name][1:]]
        wrong += [filled({**first, name: value}) for value in WRONG_IDS[kind or None]]
    return list(dict.fromkeys(found)), wrong


class FormReader(html.parser.HTMLParser):
    """The fields of a page's forms as the page fills them in, and the
    names of the parameters its links carry."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, list[str]] = {}
        self.files: set[str] = set()
        self.parameters: set[str] = set()
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for attribute in ("href", "hx-get", "hx-post", "action"):
            if "?" in (attrs.get(attribute) or ""):
                self.parameters.update(key for key, _value in parse_qsl(urlsplit(attrs[attribute]).query, keep_blank_values=True))
        name = attrs.get("name")
        if not name or name == "csrfmiddlewaretoken":
            if tag == "option" and self._select and ("selected" in attrs or not self.fields.get(self._select)):
                self.fields[self._select] = [attrs.get("value") or ""]
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind == "file":
                self.files.add(name)
            elif kind in ("checkbox", "radio"):
                self.fields.setdefault(name, [])
                if "checked" in attrs:
                    self.fields[name].append(attrs.get("value") or "on")
            elif kind not in ("submit", "button", "image", "reset"):
                self.fields.setdefault(name, []).append(attrs.get("value") or "")
        elif tag == "select":
            self._select = name
            self.fields.setdefault(name, [])
        elif tag == "textarea":
            self._textarea = name
            self.fields[name] = [""]
        elif tag == "button" and attrs.get("value") is not None:
            self.parameters.add(name)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] = [self.fields[self._textarea][0] + data]


def read_forms(responses) -> FormReader:
    reader = FormReader()
    for response in responses:
        if "html" in response.get("Content-Type", "") and not getattr(response, "streaming", False):
            reader.feed(response.content.decode(errors="replace"))
    return reader


def garbage_files() -> list[SimpleUploadedFile]:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("[Content_Types].xml", "<not xml")
        zipped.writestr("xl/workbook.xml", "\x00" * 100)
    return [
        SimpleUploadedFile("planilha.csv", b"Nome;Telefone\n\xff\xfe\x00;" + b"9" * 40 + b"\n"),
        SimpleUploadedFile("vazio.csv", b""),
        SimpleUploadedFile("planilha.xlsx", archive.getvalue()),
        SimpleUploadedFile("<script>.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, content_type="image/png"),
    ]


class Visitor:
    """Sends the requests of one user, each in a savepoint rolled back
    afterwards, and checks that none is a server error."""

    def __init__(self, user, world: World, route: str):
        self.client = Client()
        self.client.raise_request_exception = True
        if user is not None:
            self.client.force_login(user)
        self.world = world
        self.random = random.Random(f"{route} {getattr(user, 'username', '')}")
        self.sent = 0

    def send(self, method: str, path: str, data=None, *, htmx=False, raw_query=None, raw_body=None, files=None):
        headers = {"HX-Request": "true"} if htmx else {}
        extra = {"QUERY_STRING": raw_query} if raw_query is not None else {}
        with transaction.atomic():
            if raw_body is not None:
                response = self.client.generic(method, path, raw_body, content_type="application/x-www-form-urlencoded", headers=headers, **extra)
            elif method == "GET":
                response = self.client.get(path, data or {}, headers=headers, **extra)
            else:
                response = self.client.post(path, {**(data or {}), **(files or {})}, headers=headers, **extra)
            transaction.set_rollback(True)
        self.sent += 1
        assert response.status_code < 500, f"{method} {path} {data!r:.300} answered {response.status_code}"
        return response

    def garbage(self, name: str) -> object:
        """Garbage or, now and then, a value that makes sense; once in a
        while several values where one is expected."""
        pool = GARBAGE + self.world.values().get(name, []) * 3
        if self.random.random() < 0.2:
            return [self.random.choice(pool) for _ in range(3)]
        return self.random.choice(pool)

    def visit(self, path: str, *, rounds: int, sweep: bool) -> None:
        pages = [self.send("GET", path), self.send("GET", path, htmx=True)]
        read = read_forms(pages)
        names = sorted(set(PARAMETERS) | read.parameters | set(read.fields))
        # Each of the page's own parameters alone.
        for name in one_of_each_shape(read.parameters | {"_to_field"}) if sweep else []:
            for value in ["", str(2**64), self.random.choice(SHORT_GARBAGE[2:])]:
                self.send("GET", path, {name: value})
        # Any of them, together.
        for round_ in range(rounds):
            chosen = [name for name in names if self.random.random() < 0.25] or [self.random.choice(names)]
            self.send("GET", path, {name: self.garbage(name) for name in chosen}, htmx=round_ % 2 == 1)
        for value in self.random.sample(RAW_VALUES, 2 if sweep else 1):
            chosen = self.random.sample(names, min(6, len(names)))
            self.send("GET", path, raw_query="&".join(f"{name}={value}" for name in chosen))
        if sweep:
            self.send("GET", path, raw_query="&&=&==x&q&%3D=%26&" + "tag=1&" * 50)
        self.post_forms(path, read, rounds=rounds, sweep=sweep)

    def post_forms(self, path: str, read: FormReader, *, rounds: int, sweep: bool) -> None:
        base = {name: values if len(values) != 1 else values[0] for name, values in read.fields.items()}
        fields = sorted(set(read.fields) | set(HIDDEN_FIELDS))
        self.send("POST", path, base, htmx=True)
        if sweep:
            self.send("POST", path, base)
            # Each field alone garbled, the others as the page filled them in
            # (a form with no page of its own: the fields the site reads).
            for number, name in enumerate(one_of_each_shape(read.fields or HIDDEN_FIELDS)):
                self.send("POST", path, {**base, name: SHORT_GARBAGE[number % len(SHORT_GARBAGE)]}, htmx=number % 2 == 1)
                self.send("POST", path, {**base, name: ["1", "²", str(2**64)]})
        # Every field garbled at once, and made-up ones.
        for round_ in range(rounds):
            data = {name: self.garbage(name) for name in [*fields, *EXTRA_FIELDS, *self.random.sample(PARAMETERS, 5)]}
            if round_ % 3 == 0:
                data = {**base, **{name: value for name, value in data.items() if self.random.random() < 0.3}}
            self.send("POST", path, data, htmx=round_ % 2 == 1)
        for upload in garbage_files() if read.files else []:
            for name in read.files:
                upload.seek(0)
                self.send("POST", path, base, files={name: upload})
        if sweep:
            value = self.random.choice(RAW_VALUES[:4])
            body = "&".join(f"{quote(name)}={value}" for name in fields[:10] or ["x"]).encode("latin-1")
            self.send("POST", path, raw_body=body)
            self.send("POST", path, raw_body=b"name=\xff\xfe\xed\xa0\x80&number=%00&" + b"tag=1&" * 50)
            self.send("POST", path, raw_body=b'{"name": "Maria", "tag": [1]}')

    def knock(self, path: str) -> None:
        """A page the user may not see: a few requests, refused before anything is read."""
        self.send("GET", path, {name: self.garbage(name) for name in self.random.sample(PARAMETERS, 8)}, htmx=True)
        self.send("GET", path, raw_query="q=%ED%A0%80&page=\xff")
        self.send("POST", path, {name: self.garbage(name) for name in self.random.sample(PARAMETERS, 8)})


def one_of_each_shape(names) -> list[str]:
    """One name of each kind: a formset's rows are alike (form-0-x, form-1-x)."""
    shapes = {}
    for name in sorted(names):
        shapes.setdefault(re.sub(r"\d+", "#", name), name)
    return list(shapes.values())


def route_id(route: str) -> str:
    return route or "home"


@pytest.fixture
def world(db):
    """Made for every page, in the test's own transaction (each request
    also rolls back its own changes)."""
    return World()


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_no_request_to_any_page_is_a_server_error(world, route):
    found, wrong = paths(route, world)
    admin_page = route.lstrip("^").startswith("admin/")
    users = [world.superuser, world.admin, world.agent, None] if admin_page else [world.admin, world.agent, None]
    for user in users:
        visitor = Visitor(user, world, route)
        # Who is sent away before anything is read needs few requests to
        # show it; admin's pages are searched through as the superuser. The
        # fields one at a time: as the first user who may send the form.
        thorough = user is not None and (user.is_superuser or not admin_page)
        for number, path in enumerate(found):
            if thorough:
                visitor.visit(path, rounds=4 if number == 0 else 1, sweep=number == 0 and user == users[0])
            else:
                visitor.knock(path)
        for path in wrong:
            visitor.send("GET", path)
            visitor.send("POST", path, {"x": "y"}, htmx=True)
