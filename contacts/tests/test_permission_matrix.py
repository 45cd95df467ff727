"""Every URL the project defines, for every kind of user, with every method
it accepts: the expected status. The URLs come from the resolver, so a new
URL without an entry here fails `test_every_url_has_an_entry`.

Roles: anonymous; a logged-in user without a role; agent A (wallet A);
agent B (wallet B); an administrator (Administrators group, staff). The
object under test belongs to wallet A.
"""

from dataclasses import dataclass

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from audit.models import AuditEvent
from audit.services import audit_record
from contacts.models import Contact, CustomField, MergeRecord, OptOut, Segment
from contacts.tests.factories import ContactFactory, TagFactory, UserFactory, WalletFactory
from contacts.tests.test_contact_form import png
from jobs.models import Job, Worker
from tickets.models import Channel, Message, MessageMedia, Ticket

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "no_role", "agent_a", "agent_b", "administrator")
LOGIN = "login"  # a redirect to the panel's log-in page
ADMIN_LOGIN = "admin-login"  # a redirect to admin's log-in page


def every(status):
    return dict.fromkeys(ROLES, status)


def roles(anonymous, no_role, agent_a, agent_b, administrator):
    return dict(zip(ROLES, (anonymous, no_role, agent_a, agent_b, administrator), strict=True))


def walk(patterns, namespace="", prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, inner, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield (f"{namespace}{pattern.name}" if pattern.name else prefix + str(pattern.pattern))


# The panel and the project's own pages: {url: (object, {method: statuses})}.
PANEL = {
    "": (None, {"GET": every(302)}),
    "favicon": (None, {"GET": every(301), "POST": every(301)}),
    "login": (None, {"GET": roles(200, 302, 302, 302, 302), "POST": roles(200, 302, 302, 302, 302)}),
    "logout": (None, {"GET": every(405), "POST": every(302)}),
    "set_language": (None, {"POST": every(302)}),
    "contacts:list": (None, {"GET": roles(LOGIN, 403, 200, 200, 200), "POST": roles(LOGIN, 403, 405, 405, 405)}),
    "contacts:create": (None, {"GET": roles(LOGIN, 403, 200, 200, 200), "POST": roles(LOGIN, 403, 200, 200, 200)}),
    "contacts:update": ("contact", {"GET": roles(LOGIN, 403, 200, 404, 200), "POST": roles(LOGIN, 403, 200, 404, 200)}),
    "contacts:delete": ("contact", {"GET": roles(LOGIN, 403, 403, 403, 200), "POST": roles(LOGIN, 403, 403, 403, 302)}),
    "contacts:history": ("contact", {"GET": roles(LOGIN, 403, 200, 404, 200), "POST": roles(LOGIN, 403, 405, 405, 405)}),
    "contacts:photo": ("contact", {"GET": roles(LOGIN, 403, 200, 404, 200), "POST": roles(LOGIN, 403, 405, 405, 405)}),
    # Saved segments: everyone who sees the list keeps their own; the one
    # under test is agent A's own, not shared: nobody else's (administrators
    # included) to see, rename or delete. An empty POST is the form again.
    "contacts:segments": (None, {"GET": roles(LOGIN, 403, 200, 200, 200), "POST": roles(LOGIN, 403, 405, 405, 405)}),
    "contacts:segment_create": (None, {"GET": roles(LOGIN, 403, 200, 200, 200), "POST": roles(LOGIN, 403, 200, 200, 200)}),
    "contacts:segment_update": ("segment", {"GET": roles(LOGIN, 403, 200, 404, 404), "POST": roles(LOGIN, 403, 200, 404, 404)}),
    "contacts:segment_delete": ("segment", {"GET": roles(LOGIN, 403, 200, 404, 404), "POST": roles(LOGIN, 403, 302, 404, 404)}),
    # Lifting an opt-out: administrators only; an empty note is refused (200).
    "contacts:optout_lift": ("opt-out", {"GET": roles(LOGIN, 403, 403, 403, 200), "POST": roles(LOGIN, 403, 403, 403, 200)}),
    # Import and export: a permission each (administrators); a job and its
    # files belong to the user who asked (here the administrator): anybody
    # else gets a 404.
    "contacts:import": (None, {"GET": roles(LOGIN, 403, 403, 403, 200), "POST": roles(LOGIN, 403, 403, 403, 200)}),
    "contacts:import_template": (None, {"GET": roles(LOGIN, 403, 403, 403, 200), "POST": roles(LOGIN, 403, 403, 403, 405)}),
    "contacts:export": (None, {"GET": roles(LOGIN, 403, 403, 403, 200), "POST": roles(LOGIN, 403, 403, 403, 200)}),
    # Every job's page and files are the jobs app's; the old addresses lead
    # there, keeping the method (307), and the page decides.
    "jobs:detail": ("export job", {"GET": roles(LOGIN, 404, 404, 404, 200), "POST": roles(LOGIN, 404, 404, 404, 404)}),
    "jobs:file": ("export job", {"GET": roles(LOGIN, 404, 404, 404, 200), "POST": roles(LOGIN, 405, 405, 405, 405)}),
    # Everyone's own imports and exports (an empty list for who has none).
    "jobs:list": (None, {"GET": roles(LOGIN, 200, 200, 200, 200), "POST": roles(LOGIN, 405, 405, 405, 405)}),
    # The owner's finished export cannot run again: back to its page, which says why.
    "jobs:again": ("export job", {"GET": roles(LOGIN, 405, 405, 405, 405), "POST": roles(LOGIN, 404, 404, 404, 302)}),
    "contacts:job": ("export job", {"GET": every(307), "POST": every(307)}),
    "contacts:import_confirm": ("preview job", {"GET": roles(LOGIN, 403, 403, 403, 405), "POST": roles(LOGIN, 403, 403, 403, 302)}),
    "contacts:job_file": ("export job", {"GET": every(307), "POST": every(307)}),
    # Remover duplicados: administrators (contacts.merge_contacts). An
    # empty merge POST is sent back to the preview (and, on a contact,
    # without the other contact it is a 404).
    "contacts:duplicates": (None, {"GET": roles(LOGIN, 403, 403, 403, 200), "POST": roles(LOGIN, 403, 403, 403, 302)}),
    "contacts:duplicates_merge": ("duplicates job", {"GET": roles(LOGIN, 403, 403, 403, 405), "POST": roles(LOGIN, 403, 403, 403, 302)}),
    # Undoing a merge: administrators, from the survivor's history (POST only).
    "contacts:unmerge": ("merge record", {"GET": roles(LOGIN, 403, 403, 403, 405), "POST": roles(LOGIN, 403, 403, 403, 302)}),
    "contacts:merge": ("contact", {"GET": roles(LOGIN, 403, 403, 403, 200), "POST": roles(LOGIN, 403, 403, 403, 404)}),
    # Bulk actions: whoever may change contacts starts one (an empty POST is
    # the form again, with its errors); its job's page is its owner's.
    "bulk:start": (None, {"GET": roles(LOGIN, 403, 405, 405, 405), "POST": roles(LOGIN, 403, 200, 200, 200)}),
    # The LGPD tab, report and erasure: administrators only; an empty
    # confirmation is the form again, with its error.
    "lgpd:contact": ("contact", {"GET": roles(LOGIN, 403, 403, 403, 200), "POST": roles(LOGIN, 403, 403, 403, 405)}),
    "lgpd:report_json": ("contact", {"GET": roles(LOGIN, 403, 403, 403, 200), "POST": roles(LOGIN, 403, 403, 403, 405)}),
    "lgpd:report": ("contact", {"GET": roles(LOGIN, 403, 403, 403, 200), "POST": roles(LOGIN, 403, 403, 403, 405)}),
    "lgpd:erase": ("contact", {"GET": roles(LOGIN, 403, 403, 403, 200), "POST": roles(LOGIN, 403, 403, 403, 200)}),
    "tickets:list": (None, {"GET": roles(LOGIN, 403, 200, 200, 200), "POST": roles(LOGIN, 403, 405, 405, 405)}),
    "tickets:detail": ("ticket", {"GET": roles(LOGIN, 403, 200, 404, 200), "POST": roles(LOGIN, 403, 405, 405, 405)}),
    # An empty reply is refused with a message on the ticket's page.
    "tickets:reply": ("ticket", {"GET": roles(LOGIN, 403, 405, 405, 405), "POST": roles(LOGIN, 403, 302, 404, 302)}),
    # The contact beside the ticket: an empty POST is the form again, with its errors.
    "tickets:contact": ("ticket", {"GET": roles(LOGIN, 403, 200, 404, 200), "POST": roles(LOGIN, 403, 200, 404, 200)}),
    # A contact's "Conversas" tab.
    "tickets:contact_tickets": ("contact", {"GET": roles(LOGIN, 403, 200, 404, 200), "POST": roles(LOGIN, 403, 405, 405, 405)}),
    "tickets:close": ("ticket", {"GET": roles(LOGIN, 403, 405, 405, 405), "POST": roles(LOGIN, 403, 302, 404, 302)}),
    "tickets:reopen": ("ticket", {"GET": roles(LOGIN, 403, 405, 405, 405), "POST": roles(LOGIN, 403, 302, 404, 302)}),
    "tickets:take": ("ticket", {"GET": roles(LOGIN, 403, 405, 405, 405), "POST": roles(LOGIN, 403, 302, 404, 302)}),
    # A reply that failed, sent again (and failing again: no gateway here).
    "tickets:retry": ("message", {"GET": roles(LOGIN, 403, 405, 405, 405), "POST": roles(LOGIN, 403, 302, 404, 302)}),
    # A file a customer sent (a photo), and "Tentar novamente" on it.
    "tickets:media": ("media", {"GET": roles(LOGIN, 403, 200, 404, 200), "POST": roles(LOGIN, 403, 405, 405, 405)}),
    "tickets:media_thumbnail": ("media", {"GET": roles(LOGIN, 403, 200, 404, 200), "POST": roles(LOGIN, 403, 405, 405, 405)}),
    "tickets:media_retry": ("media", {"GET": roles(LOGIN, 403, 405, 405, 405), "POST": roles(LOGIN, 403, 302, 404, 302)}),
    # One channel reaches the contact: the POST starts the ticket.
    "tickets:start": ("contact", {"GET": roles(LOGIN, 403, 200, 404, 200), "POST": roles(LOGIN, 403, 302, 404, 302)}),
    # Sync is for administrators; an empty POST is sent back to the list.
    "tickets:sync": (None, {"GET": roles(LOGIN, 403, 403, 403, 405), "POST": roles(LOGIN, 403, 403, 403, 302)}),
    # A sync's page by its number from before syncs were jobs: its owner's.
    "tickets:job": ("sync job", {"GET": roles(LOGIN, 404, 404, 404, 307), "POST": roles(LOGIN, 405, 405, 405, 405)}),
    # An admin page's address from before its model moved app.
    "admin_moved": ("moved admin page", {"GET": every(301), "POST": every(301)}),
    # Gateways, not people: the channel's secret or nothing (this POST has none).
    "tickets:webhook": ("channel", {"GET": every(405), "POST": every(403)}),
}

# Django admin is for administrators only (agents are kept out even when
# marked staff). What an administrator may do there, per model:
# view-only models answer 403 to add and delete.
FULL = {"changelist": 200, "add": 200, "change": 200, "delete": 200, "history": 200}
VIEW_ONLY = {"changelist": 200, "add": 403, "change": 200, "delete": 403, "history": 200}
NOTHING = {"changelist": 403, "add": 403, "change": 403, "delete": 403, "history": 403}
ADMIN_MODELS = {
    "contacts.contact": FULL,
    "contacts.customfield": FULL,
    "contacts.tag": FULL,
    "contacts.wallet": {**FULL, "move": 200},
    "audit.auditevent": VIEW_ONLY,
    "contacts.historicalcontact": VIEW_ONLY,
    # The wallet form's "responsible user" autocomplete needs to see users.
    "auth.user": {**VIEW_ONLY, "password_change": 403},
    "auth.group": NOTHING,
    # Lifting a lock-out is deleting its access attempt; the logs are read-only.
    "axes.accessattempt": {**VIEW_ONLY, "delete": 200},
    "axes.accesslog": VIEW_ONLY,
    "axes.accessfailurelog": VIEW_ONLY,
    # Channels are managed in admin; tickets, messages and sync jobs are
    # records to read there (they change through the panel and the webhook).
    "tickets.channel": FULL,
    "tickets.ticket": VIEW_ONLY,
    "tickets.message": VIEW_ONLY,
    # No task result exists here; its history page says so (and goes home)
    # before it looks at permissions.
    "django_tasks_database.dbtaskresult": {**NOTHING, "history": 302},
    "jobs.job": VIEW_ONLY,
    "jobs.worker": VIEW_ONLY,
    "contacts.mergerecord": VIEW_ONLY,
    # Segments are saved from the list; admin shows everyone's, to rename,
    # unshare or delete.
    "contacts.segment": {**FULL, "add": 403},
}
ADMIN_SITE = {
    "admin:index": 200,
    "admin:login": 302,  # already logged in
    "admin:logout": 405,
    "admin:password_change": 200,
    "admin:password_change_done": 200,
    "admin:autocomplete": 200,
    "admin:jsi18n": 200,
    "admin:view_on_site": 302,
    "admin:app_list": 200,
}


@dataclass
class World:
    contact: Contact
    objects: dict
    users: dict


@pytest.fixture
def world(db):
    agent_a = UserFactory(username="agent-a")
    agent_b = UserFactory(username="agent-b")
    agent_a.groups.add(Group.objects.get(name="Agents"))
    agent_b.groups.add(Group.objects.get(name="Agents"))
    administrator = UserFactory(username="administrator", is_staff=True)
    administrator.groups.add(Group.objects.get(name="Administrators"))
    wallet = WalletFactory(name="Carteira A", user=agent_a)
    WalletFactory(name="Carteira B", user=agent_b)
    contact = ContactFactory(wallet=wallet, tags=[TagFactory()])
    contact.photo.save("p.png", ContentFile(png().getvalue()), save=True)
    field = CustomField.objects.create(contact=contact, name="Plano", value="Pro")
    objects = {
        "contacts.contact": contact,
        "contacts.customfield": field,
        "contacts.tag": contact.tags.get(),
        "contacts.wallet": wallet,
        "audit.auditevent": audit_record(action=AuditEvent.Action.EXPORT),
        "contacts.historicalcontact": Contact.history.model.objects.filter(id=contact.pk).first(),
        "auth.user": agent_a,
        "jobs.job": Job.objects.create(kind=Job.Kind.EXPORT, user=agent_a),
        "jobs.worker": Worker.objects.create(worker_id="w1", host="app-1", pid=1, started_at=timezone.now(), seen_at=timezone.now()),
        "contacts.mergerecord": MergeRecord.objects.create(survivor=contact, survivor_name=contact.name, source="panel"),
        "contacts.segment": Segment.objects.create(name="Da A", owner=agent_a, filters={"q": "a"}),
        "auth.group": Group.objects.get(name="Agents"),
        "axes.accessattempt": AccessAttempt.objects.create(username="x", ip_address="192.0.2.1", failures_since_start=1),
        "axes.accesslog": AccessLog.objects.create(username="x", ip_address="192.0.2.1"),
        "axes.accessfailurelog": AccessFailureLog.objects.create(username="x", ip_address="192.0.2.1"),
    }
    channel = Channel.objects.create(kind="whatsapp", name="WhatsApp", webhook_secret="world-secret")
    ticket = Ticket.objects.create(contact=contact, channel=channel, user=agent_a)
    objects["tickets.channel"] = channel
    objects["tickets.ticket"] = ticket
    objects["tickets.message"] = Message.objects.create(
        channel=channel, external_id="M1", chat_id="5511987654321@s.whatsapp.net", sent_at=ticket.created_at, ticket=ticket, contact=contact
    )
    users = {
        "anonymous": None,
        "no_role": UserFactory(username="no-role"),
        "agent_a": agent_a,
        "agent_b": agent_b,
        "administrator": administrator,
    }
    return World(contact, objects, users)


def object_for(needs, world):
    """A fresh object of wallet A for one request: a contact, a channel, a
    ticket (on the one WhatsApp channel), a failed reply, a sync job."""
    if needs == "contact":
        return ContactFactory(wallet=world.contact.wallet)
    if needs == "channel":
        return Channel.objects.create(kind="telegram", name="Bot", webhook_secret="matrix-secret")
    if needs in ("ticket", "message", "media"):
        contact = ContactFactory(wallet=world.contact.wallet)
        ticket = Ticket.objects.create(contact=contact, channel=world.objects["tickets.channel"], status="pending")
        if needs == "ticket":
            return ticket
        message = Message.objects.create(
            channel=ticket.channel,
            external_id=f"local:{ticket.pk}",
            chat_id=contact.number,
            sent_at=ticket.created_at,
            ticket=ticket,
            contact=contact,
            from_me=needs == "message",
            body="Olá",
            delivery="failed" if needs == "message" else "received",
        )
        if needs == "message":
            return message
        media = MessageMedia(message=message, kind="image", status="stored", content_type="image/png")
        media.file.save("p.png", ContentFile(png().getvalue()), save=False)
        media.thumbnail.save("t.jpg", ContentFile(png().getvalue()), save=True)
        return media
    return None


def admin_cases():
    """(url name, model label or None, action) for every admin URL."""
    for model, model_admin in admin.site._registry.items():
        label = model._meta.label_lower
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}_"
        for action in ADMIN_MODELS.get(label, {}):
            yield f"{prefix}{action}", label, action


def url_for(name, label, action, world):
    if label is None:
        if name == "admin:view_on_site":
            return reverse(name, args=[ContentType.objects.get_for_model(Contact).pk, world.contact.pk])
        if name == "admin:app_list":
            return reverse(name, kwargs={"app_label": "contacts"})
        if name == "admin:autocomplete":
            return reverse(name) + "?app_label=contacts&model_name=wallet&field_name=user&term=a"
        return reverse(name)
    if action in ("changelist", "add"):
        return reverse(name)
    obj = world.objects.get(label)
    if obj is None:  # a model with nothing to show: no object to point at
        return reverse(name, args=[1])
    return reverse(name, args=[obj.pk])


def check(client, method, url, expected):
    response = client.get(url) if method == "GET" else client.post(url, {})
    status = response.status_code
    if expected == LOGIN:
        ok = status == 302 and response.url.startswith(reverse("login"))
    elif expected == ADMIN_LOGIN:
        ok = status == 302 and response.url.startswith(reverse("admin:login"))
    else:
        ok = status == expected
    return None if ok else f"{method} {url}: {status}{' -> ' + response.url if status == 302 else ''} (expected {expected})"


def panel_url(name, needs, world):
    """The URL, with a fresh object to point at (a POST may delete it)."""
    if name == "":
        return "/"
    if needs == "contact":
        contact = ContactFactory(wallet=world.contact.wallet)
        if name == "contacts:photo":
            contact.photo.save("p.png", ContentFile(png().getvalue()), save=True)
        return reverse(name, args=[contact.pk])
    if needs in ("channel", "ticket", "message", "media"):
        return reverse(name, args=[object_for(needs, world).pk])
    if needs == "segment":
        segment = Segment.objects.create(name=f"Segmento {Segment.objects.count()}", owner=world.users["agent_a"], filters={"q": "a"})
        return reverse(name, args=[segment.pk])
    if needs == "merge record":
        survivor = ContactFactory(wallet=world.contact.wallet)
        record = MergeRecord.objects.create(survivor=survivor, survivor_name=survivor.name, source="panel")
        return reverse(name, args=[record.pk])
    if needs == "opt-out":
        contact = ContactFactory(wallet=world.contact.wallet)
        opt_out = OptOut.objects.create(contact=contact, channel_id=1, channel_name="WhatsApp", evidence="SAIR", asked_at=timezone.now())
        return reverse(name, args=[opt_out.pk])
    administrator = world.users["administrator"]
    if needs == "moved admin page":
        return reverse(name, kwargs={"old": "contacts/job", "rest": ""})
    if needs == "sync job":
        number = Job.objects.count() + 1000
        Job.objects.create(kind=Job.Kind.SYNC, user=administrator, parameters={"sync_job": number})
        return reverse(name, args=[number])
    if needs == "export job":
        job = Job.objects.create(kind=Job.Kind.EXPORT, user=administrator, status=Job.Status.DONE, result={"rows": 0})
        job.result_file.save("contatos.csv", ContentFile(b"Nome\r\n"))
        args = [job.token, "result"] if name in ("contacts:job_file", "jobs:file") else [job.token]
        return reverse(name, args=args)
    if needs == "duplicates job":
        job = Job.objects.create(kind=Job.Kind.DUPLICATES, user=administrator, status=Job.Status.DONE, result={"groups": 0})
        return reverse(name, args=[job.token])
    if needs == "preview job":
        job = Job.objects.create(kind=Job.Kind.IMPORT_PREVIEW, user=administrator, status=Job.Status.DONE, result={"created": 1})
        job.source_file.save("planilha", ContentFile(b"Nome;Telefone\r\nMaria;11987654321\r\n"))
        return reverse(name, args=[job.token])
    return reverse(name)


def client_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_every_url_has_an_entry():
    admin_names = {name for name, _, _ in admin_cases()} | set(ADMIN_SITE)
    missing = [
        url
        for url in walk(get_resolver().url_patterns)
        if url not in PANEL and url not in admin_names and not url.startswith("admin/")
    ]
    unlisted_models = {model._meta.label_lower for model in admin.site._registry} - set(ADMIN_MODELS)
    assert not missing, f"URLs without an entry in the permission matrix: {missing}"
    assert not unlisted_models, f"Admin models without an entry in the permission matrix: {unlisted_models}"
    unnamed_admin = [url for url in walk(get_resolver().url_patterns) if url.startswith("admin/")]
    # Admin's own unnamed patterns: each model's bare object URL (a redirect
    # to its change page) and the catch-all; both are behind the same gate.
    assert all(url.endswith("<path:object_id>/") or url.endswith("(?P<url>.*)$") for url in unnamed_admin)


@pytest.mark.parametrize("role", ROLES)
def test_the_panel_answers_each_role_as_the_matrix_says(world, role):
    failures = []
    for name, (needs, methods) in PANEL.items():
        for method, expected in methods.items():
            failures.append(check(client_for(world.users[role]), method, panel_url(name, needs, world), expected[role]))
    failures = [f for f in failures if f]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ROLES)
def test_django_admin_answers_each_role_as_the_matrix_says(world, role):
    client = client_for(world.users[role])
    failures = []
    cases = [(name, None, None, status) for name, status in ADMIN_SITE.items()]
    cases += [(name, label, action, ADMIN_MODELS[label][action]) for name, label, action in admin_cases()]
    for name, label, action, admin_status in cases:
        if role == "administrator":
            expected = admin_status
        elif name == "admin:login":
            expected = 200  # the form, which says this user may not go further
        elif name == "admin:logout":
            expected = 302  # a GET logs nobody out; back to admin's home
        else:
            expected = ADMIN_LOGIN
        failures.append(check(client, "GET", url_for(name, label, action, world), expected))
    failures = [f for f in failures if f]
    assert not failures, "\n".join(failures)
