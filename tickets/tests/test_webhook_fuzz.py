"""Whatever arrives at a webhook, the answer is 200, 400 or 403: never a
server error. Random bytes, random JSON, and the providers' shapes with any
field replaced by any JSON value (lone surrogates and NUL included)."""

import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import TELEGRAM_SECRET, WHATSAPP_SECRET

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | any_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(any_text, children, max_size=3),
    max_leaves=12,
)


def either(*valid):
    return st.one_of(st.sampled_from(valid), json_value)


jids = either(
    "5511987654321@s.whatsapp.net",
    "551187654321@s.whatsapp.net",
    "120363025246125888@g.us",
    "123456789012345@lid",
    "status@broadcast",
    "0@s.whatsapp.net",
    "99999999999999999999999@s.whatsapp.net",
    "@g.us",
    "5511987654321:7@s.whatsapp.net",
)
whatsapp_content = st.one_of(
    json_value,
    st.fixed_dictionaries({"conversation": either("oi")}),
    st.fixed_dictionaries({"extendedTextMessage": st.fixed_dictionaries({"text": either("oi")})}),
    st.fixed_dictionaries({"imageMessage": st.fixed_dictionaries({"caption": either("foto")})}),
    st.fixed_dictionaries({"ephemeralMessage": st.fixed_dictionaries({"message": json_value})}),
    st.fixed_dictionaries({"documentMessage": st.fixed_dictionaries({"fileName": json_value, "caption": json_value})}),
)
whatsapp_message = st.fixed_dictionaries(
    {
        "key": st.one_of(
            json_value,
            st.fixed_dictionaries(
                {
                    "remoteJid": jids,
                    "fromMe": either(False, True),
                    "id": either("3EB0ABCDEF", "x" * 128),
                    "participant": jids,
                    "remoteJidAlt": jids,
                    "participantAlt": jids,
                }
            ),
        ),
        "pushName": json_value,
        "message": whatsapp_content,
        "messageTimestamp": json_value,
    }
)
evolution_payload = st.fixed_dictionaries(
    {
        "event": either("messages.upsert", "send.message", "messages.edited", "MESSAGES_UPSERT"),
        "apikey": st.just(WHATSAPP_SECRET),
        "sender": jids,
        "data": st.one_of(whatsapp_message, st.lists(whatsapp_message, max_size=3), json_value),
    }
)
telegram_user = st.one_of(
    json_value,
    st.fixed_dictionaries({"id": either(1, 2**60), "first_name": json_value, "last_name": json_value, "username": json_value}),
)
telegram_message = st.fixed_dictionaries(
    {
        "message_id": either(1, 2**70, -1),
        "from": telegram_user,
        "chat": st.one_of(
            json_value,
            st.fixed_dictionaries(
                {"id": either(1, -1001234567890, 2**64), "type": either("private", "group", "supergroup", "channel"), "title": json_value}
            ),
        ),
        "date": json_value,
        "text": json_value,
        "caption": json_value,
        "photo": json_value,
        "sticker": json_value,
    }
)
telegram_payload = st.fixed_dictionaries(
    {"update_id": either(1, 2**80), "message": st.one_of(telegram_message, json_value), "edited_message": telegram_message}
)


def post(client, channel, body: bytes, **headers):
    url = reverse("tickets:webhook", args=[channel.pk])
    return client.post(url, body, content_type="application/json", headers=headers)


def dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode()


@FUZZ
@given(body=st.binary(max_size=3000))
def test_random_bytes_are_never_a_server_error(client, whatsapp, telegram, body):
    assert post(client, whatsapp, body, apikey=WHATSAPP_SECRET).status_code in (400,)
    assert post(client, telegram, body, **{"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}).status_code in (200, 400)


@FUZZ
@given(value=json_value)
def test_random_json_is_never_a_server_error(client, whatsapp, telegram, value):
    assert post(client, whatsapp, dumps(value), apikey=WHATSAPP_SECRET).status_code in (200, 400)
    assert post(client, telegram, dumps(value), **{"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}).status_code in (200, 400)


@FUZZ
@given(payload=evolution_payload)
def test_evolution_shaped_events_with_any_field_are_never_a_server_error(client, whatsapp, payload):
    assert post(client, whatsapp, dumps(payload)).status_code in (200, 400)


@FUZZ
@given(payload=telegram_payload)
def test_telegram_shaped_updates_with_any_field_are_never_a_server_error(client, telegram, payload):
    assert post(client, telegram, dumps(payload), **{"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}).status_code in (200, 400)
