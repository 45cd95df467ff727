"""The endpoint each channel's gateway posts its events to.

It is the only view without CSRF protection: its callers are gateways, not
browsers, and they prove who they are with the channel's secret instead
(compared in constant time), where the channel's provider says: Evolution
API sends it as "apikey" in every event's body (or in an "apikey" header,
when the webhook is registered from admin); Telegram in the
X-Telegram-Bot-Api-Secret-Token header.

Answers: 200 for every event from the channel, stored or not (other event
types are acknowledged and ignored, or the gateway would retry them);
403 for a wrong secret or an unknown channel; 400 for a body that is not
JSON, not the provider's shape, or too big. Too big is what is left of it
once the files it may carry inside are set aside (tickets.event_body): a
message is never refused for its file. Nothing is written unless the
answer is 200.
"""

import json
from functools import cache

from django.db import connection
from django.http import JsonResponse, RawPostDataException
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from audit.recording import Source, recording
from contacts_portal import database

from .event_body import EventTooLarge, event_body
from .identities import pairs_reveal
from .inbound import InvalidPayload
from .models import Channel
from .services import message_receive


@cache
def _channel_sql() -> tuple[list[str], str]:
    columns = [field.column for field in Channel._meta.concrete_fields]
    quote = connection.ops.quote_name
    return columns, f"SELECT {', '.join(map(quote, columns))} FROM {quote(Channel._meta.db_table)} WHERE {quote('id')} = %s"


def channel_by_id(channel_id: int) -> Channel | None:
    """The channel, read with a query written out and built as the ORM
    builds a row it read (Model.from_db): composing the query through the
    ORM, or a raw() query set, cost this endpoint more than anything it
    does but the insert. An id out of range is no channel."""
    if not 0 < channel_id < 2**63:
        return None
    columns, sql = _channel_sql()
    with database.hot_cursor() as cursor:
        cursor.execute(sql, [channel_id])
        row = cursor.fetchone()
    if row is None:
        return None
    values = [converter(value) if converter else value for converter, value in zip(_channel_converters(), row)]
    return Channel.from_db(connection.alias, [field.attname for field in Channel._meta.concrete_fields], values)


@cache
def _channel_converters() -> list:
    """What the backend's own converters make of each column (a JSON
    field's text, SQLite's datetimes), as a query set would apply them."""
    converters = []
    for field in Channel._meta.concrete_fields:
        expression = field.get_col(Channel._meta.db_table)
        functions = connection.ops.get_db_converters(expression) + expression.get_db_converters(connection)
        converters.append(
            (lambda value, functions=functions, expression=expression: _converted(value, functions, expression)) if functions else None
        )
    return converters


def _converted(value, functions, expression):
    for function in functions:
        value = function(value, expression, connection)
    return value


def _refused(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"error": reason}, status=status)


@method_decorator(csrf_exempt, name="dispatch")
class WebhookView(View):
    http_method_names = ["post"]

    def post(self, request, channel_id):
        channel = channel_by_id(channel_id)
        if channel is None:
            return _refused(403, "forbidden")
        provider = channel.provider
        authenticated = provider.authenticated_by_headers(request.headers)
        if not authenticated and not provider.secret_in_body:
            return _refused(403, "forbidden")
        try:
            body = event_body(request, sender_known=authenticated)
        except EventTooLarge:
            return _refused(400, "too large")
        except RawPostDataException:  # a form upload, already parsed: not an event
            return _refused(400, "not JSON")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return _refused(400, "not JSON")
        if not authenticated and not provider.authenticated_by_body(payload):
            return _refused(403, "forbidden")
        try:
            event = provider.parse(payload)
        except (InvalidPayload, RecursionError):
            return _refused(400, "not a message event")
        # Each message is stored once whatever happens to the others: a
        # retry of the event stores what is missing and nothing twice.
        with recording(source=Source.MESSAGE):
            if event.pairs:
                pairs_reveal(pairs=event.pairs, seen=event.seen, place=channel.name)
            stored = sum(message_receive(channel=channel, inbound=inbound) is not None for inbound in event.messages)
        return JsonResponse({"stored": stored})
