"""What the simulated people do in benchmarks/load.py, as Locust users.

Every request is named by its kind ("list", "search: name", "webhook" …),
so the table shows each kind's percentiles and errors. A request counts
as an error when its status is not the one the product answers when all
goes well (a form sent back with errors is a 200 where a save is a 204).

The users know nothing of Django: load.py hands them a Desk (addresses,
logins, sample contacts, the channel) through the class attribute `desk`.
"""

import itertools
import json
import random
import re
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

from locust import FastHttpUser, between, constant_throughput, task

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"|"X-CSRFToken": *"([^"]+)"')
HTMX = {"HX-Request": "true"}


@dataclass
class Desk:
    hosts: list[str]  # http://127.0.0.1:PORT of each instance
    agents: list[tuple[str, str]]  # (username, password)
    administrator: tuple[str, str]
    contact_ids: list[int]  # contacts every agent may see
    names: list[str]
    phones: list[str]
    extra_values: list[str]
    channel_id: int
    webhook_secret: str
    known_numbers: list[str]
    run_tag: str  # in every webhook message id of this run
    new_sender_share: float = 0.3
    import_file: str = ""
    posted: set = field(default_factory=set)  # message ids the server took (2xx)
    lock: threading.Lock = field(default_factory=threading.Lock)
    jobs: dict = field(default_factory=dict)  # "import"/"export" -> job token
    webhook_hosts: list[str] = field(default_factory=list)  # where the load balancer sends /tickets/webhook/


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    if not match:
        raise ValueError("no CSRF token on the page")
    return match.group(1) or match.group(2)


class FormFields(HTMLParser):
    """The fields a browser would send for the first form that posts to
    `path` (or to its own page): text inputs, checked boxes and radios,
    selected options, text areas. The side menu's log-out form is skipped."""

    def __init__(self, path: str = ""):
        super().__init__()
        self.path = path
        self.fields: list[tuple[str, str]] = []
        self.in_form = self.done = False
        self.select: str | None = None
        self.select_first: str | None = None
        self.select_chosen = False
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self.done:
            return
        if tag == "form" and (attrs.get("method") or "").lower() == "post" and attrs.get("action") in (None, "", self.path):
            self.in_form = True
        if not self.in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name and "disabled" not in attrs:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind in ("file", "submit", "button", "image"):
                return
            self.fields.append((name, attrs.get("value") or ("on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self.select, self.select_first, self.select_chosen = name, None, False
            self.multiple = "multiple" in attrs
        elif tag == "option" and self.select:
            value = attrs.get("value", "")
            if self.select_first is None:
                self.select_first = value
            if "selected" in attrs:
                self.fields.append((self.select, value))
                self.select_chosen = True
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_data(self, data):
        if self.textarea:
            self.text += data

    def handle_endtag(self, tag):
        if tag == "select" and self.select:
            if not self.select_chosen and not self.multiple and self.select_first is not None:
                self.fields.append((self.select, self.select_first))
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.fields.append((self.textarea, self.text.strip("\n")))
            self.textarea = None
        elif tag == "form" and self.in_form:
            self.in_form, self.done = False, True


def form_fields(html: str, path: str = "") -> list[tuple[str, str]]:
    parser = FormFields(path)
    parser.feed(html)
    return parser.fields


def expect(response, *statuses):
    """Mark the request failed unless its status is one of `statuses`."""
    if response.status_code in statuses:
        response.success()
        return True
    response.failure(f"status {response.status_code}")
    return False


_turn = itertools.count()
#: The agents logged in so far: the load is measured once all are (load.py).
logged_in: list[str] = []


class DeskUser(FastHttpUser):
    """A person at one of the instances (taken in turn, as a load balancer
    would), logged in as `login()` says."""

    abstract = True
    desk: Desk
    host = "http://127.0.0.1"  # replaced per user in __init__

    def __init__(self, environment):
        self.number = next(_turn)
        self.host = self.desk.hosts[self.number % len(self.desk.hosts)]
        super().__init__(environment)
        self.rng = random.Random(self.number)
        self.token = ""

    def log_in(self, username: str, password: str) -> None:
        with self.client.get("/login/", name="log-in page", catch_response=True) as page:
            expect(page, 200)
        data = {"username": username, "password": password, "csrfmiddlewaretoken": csrf_token(page.text)}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        with self.client.post("/login/", data=urlencode(data), headers=headers, name="log in", allow_redirects=False, catch_response=True) as response:
            expect(response, 302)
        with self.client.get("/contacts/", name="list", catch_response=True) as response:
            if expect(response, 200):
                self.token = csrf_token(response.text)

    def post(self, path: str, data, name: str, *statuses, htmx=False):
        headers = {"X-CSRFToken": self.token, "Content-Type": "application/x-www-form-urlencoded", **(HTMX if htmx else {})}
        with self.client.post(path, data=urlencode(data), headers=headers, name=name, allow_redirects=False, catch_response=True) as response:
            expect(response, *statuses)
        return response


class AgentUser(DeskUser):
    """An agent at work: lists, searches, opens a contact, saves it, serves
    a customer. A few seconds between two actions, as a person takes."""

    abstract = True
    wait_time = between(1, 3)
    seats = itertools.count()

    def on_start(self):
        self.seat = next(self.seats)  # 0, 1, 2 … among the agents
        self.log_in(*self.desk.agents[self.seat % len(self.desk.agents)])
        logged_in.append(self.desk.agents[self.seat % len(self.desk.agents)][0])

    def get(self, path: str, name: str, *, htmx=False):
        with self.client.get(path, name=name, headers=HTMX if htmx else {}, catch_response=True) as response:
            expect(response, 200)
        return response

    @task(4)
    def list(self):
        self.get(f"/contacts/?page={self.rng.choice((1, 1, 1, 2, 3))}", "list")

    @task(3)
    def search_name(self):
        self.get(f"/contacts/?q={self.rng.choice(self.desk.names)}", "search: name", htmx=True)

    @task(2)
    def search_phone(self):
        phone = self.rng.choice(self.desk.phones)
        self.get(f"/contacts/?q={phone[-8:-3]}", "search: phone", htmx=True)

    @task(2)
    def search_extra_field(self):
        self.get(f"/contacts/?q={self.rng.choice(self.desk.extra_values)}", "search: extra field", htmx=True)

    def my_contact(self) -> int:
        """Each agent serves customers of their own: two saves of one
        contact from two popups opened on the same version are refused
        (the second is told to reload), as they should be."""
        agents = len(self.desk.agents)
        return self.rng.choice(self.desk.contact_ids[self.seat % agents :: agents] or self.desk.contact_ids)

    @task(3)
    def open_and_save(self):
        pk = self.my_contact()
        popup = self.get(f"/contacts/{pk}/edit/", "popup", htmx=True)
        if popup.status_code != 200:
            return
        fields = form_fields(popup.text, f"/contacts/{pk}/edit/")
        if not fields:
            popup.failure("no form in the popup")
            return
        # The agent writes down what the customer just said.
        fields = [(name, value) for name, value in fields if name != "company"] + [("company", f"Empresa {self.rng.randrange(1000)}")]
        self.post(f"/contacts/{pk}/edit/", fields, "save", 204, htmx=True)

    @task(1)
    def serve(self):
        """Iniciar atendimento on a contact, then a reply through the gateway."""
        pk = self.my_contact()
        started = self.post(f"/tickets/start/{pk}/", {}, "ticket: open", 302)
        location = started.headers.get("Location", "")
        if not re.fullmatch(r"/tickets/\d+/", location):
            return
        self.get(location, "ticket: page")
        self.post(location + "reply/", {"text": "Bom dia! Já estou vendo o seu pedido."}, "ticket: reply", 302)


class WebhookUser(FastHttpUser):
    """The gateway delivering WhatsApp messages (Evolution API
    messages.upsert) at a steady rate, to both instances in turn: most from
    known contacts, `new_sender_share` from numbers never seen, a few
    delivered twice, as gateways retry."""

    abstract = True
    desk: Desk
    rate = 4.0  # messages a second per user; load.py sets it
    host = "http://127.0.0.1"

    def __init__(self, environment):
        self.number = next(_turn)
        self.host = self.desk.webhook_hosts[self.number % len(self.desk.webhook_hosts)]
        super().__init__(environment)
        self.rng = random.Random(self.number)
        self.sent = itertools.count()
        self.last: bytes | None = None
        self.pace = constant_throughput(self.rate)

    def wait_time(self):
        return self.pace(self)

    def body(self) -> tuple[str | None, bytes]:
        if self.last is not None and self.rng.random() < 0.03:
            return None, self.last  # the same event again
        n = next(self.sent)
        message_id = f"3EB0{self.desk.run_tag}{self.number:04X}{n:08X}"
        if self.rng.random() < self.desk.new_sender_share:
            phone = f"55219{self.rng.randrange(10**8):08d}"
        else:
            phone = self.rng.choice(self.desk.known_numbers)
        event = {
            "event": "messages.upsert",
            "instance": "atendimento",
            "data": {
                "key": {"remoteJid": f"{phone}@s.whatsapp.net", "fromMe": False, "id": message_id},
                "pushName": "Cliente",
                "status": "DELIVERY_ACK",
                "message": {"conversation": f"Mensagem {n} 😀"},
                "messageType": "conversation",
                "messageTimestamp": 1764079510 + n,
            },
            "sender": "5511900000000@s.whatsapp.net",
            "apikey": self.desk.webhook_secret,
        }
        return message_id, json.dumps(event).encode()

    @task
    def deliver(self):
        message_id, body = self.body()
        with self.client.post(
            f"/tickets/webhook/{self.desk.channel_id}/",
            data=body,
            headers={"Content-Type": "application/json"},
            name="webhook",
            catch_response=True,
        ) as response:
            if expect(response, 200):
                self.last = body
                if message_id:
                    with self.desk.lock:
                        self.desk.posted.add(message_id)


class BackOfficeUser(DeskUser):
    """An administrator who imports a spreadsheet (upload, columns as
    guessed, preview, confirm) and exports the whole list, then waits; the
    jobs run on the task workers while the desk works. load.py follows
    the jobs in the database."""

    abstract = True
    wait_time = between(2, 3)

    def on_start(self):
        self.log_in(*self.desk.administrator)
        self.step = "upload"

    @task
    def next_step(self):
        if self.step == "upload":
            with open(self.desk.import_file, "rb") as handle:
                response = self.post_file(handle)
            if response.status_code == 302:
                self.desk.jobs["preview"] = response.headers["Location"].rstrip("/").rsplit("/", 1)[1]
                mapping = self.client.get(f"/jobs/{self.desk.jobs['preview']}/", name="job page")
                self.post(f"/jobs/{self.desk.jobs['preview']}/", form_fields(mapping.text, f"/jobs/{self.desk.jobs['preview']}/"), "import: columns", 302)
                self.step = "export"
            else:
                self.step = "done"
        elif self.step == "export":
            response = self.post("/contacts/export/", {"format": "xlsx"}, "export: start", 302)
            if response.status_code == 302:
                self.desk.jobs["export"] = response.headers["Location"].rstrip("/").rsplit("/", 1)[1]
            self.step = "confirm"
        elif self.step == "confirm":
            # The preview is done when its page offers the confirmation.
            page = self.client.get(f"/jobs/{self.desk.jobs['preview']}/", name="job page")
            if f"/contacts/jobs/{self.desk.jobs['preview']}/import/" in page.text:
                response = self.post(f"/contacts/jobs/{self.desk.jobs['preview']}/import/", {"conflicts": "skip"}, "import: confirm", 302)
                if response.status_code == 302:
                    self.desk.jobs["import"] = response.headers["Location"].rstrip("/").rsplit("/", 1)[1]
                self.step = "done"

    def post_file(self, handle):
        # FastHttpUser sends files as multipart through `files=`.
        headers = {"X-CSRFToken": self.token}
        with self.client.post(
            "/contacts/import/",
            data={"csrfmiddlewaretoken": self.token},
            files={"file": ("contatos.xlsx", handle.read(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")},
            headers=headers,
            name="import: upload",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            expect(response, 302)
        return response


class ReferenceUser(DeskUser):
    """Alone, before the load: the log-in page as an anonymous visitor (the
    same-run reference), then, logged in as an agent, the list; one
    request after the other."""

    abstract = True
    wait_time = between(0.05, 0.1)
    anonymous_requests = 60

    def on_start(self):
        self.count = 0

    @task
    def reference(self):
        self.count += 1
        if self.count <= self.anonymous_requests:
            with self.client.get("/login/", name="alone: log-in page", catch_response=True) as response:
                expect(response, 200)
            return
        if not self.token:
            self.log_in(*self.desk.agents[self.number % len(self.desk.agents)])
        with self.client.get(f"/contacts/?page={self.rng.choice((1, 1, 1, 2, 3))}", name="alone: list", catch_response=True) as response:
            expect(response, 200)
