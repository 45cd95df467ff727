"""The cap on how much a request may send: refused with a message before the
body is read, and nothing saved."""

import io
import json

import pytest
from asgiref.sync import async_to_sync
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import AsyncClient
from django.test.client import BOUNDARY, MULTIPART_CONTENT, FakePayload, encode_multipart
from django.urls import include, path, reverse
from PIL import Image

from contacts.models import Contact
from contacts.tests.environment import production_settings
from contacts_portal.uploads import max_upload_size, readable_size

pytestmark = pytest.mark.django_db

CREATE = reverse("contacts:create")
CAP = 64 * 1024
REFUSED = "O envio é grande demais (o limite é de 64 KB) e nada foi salvo. Envie um arquivo menor."


@pytest.fixture(autouse=True)
def small_cap(settings):
    settings.MAX_UPLOAD_SIZE = CAP


def contact_form(**fields):
    return {
        "name": "Carla Dias",
        "number": "(11) 3456-7890",
        "custom_fields-TOTAL_FORMS": "0",
        "custom_fields-INITIAL_FORMS": "0",
        **fields,
    }


def png():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "#25d366").save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "photo.png"
    return buffer


def photo_of(size: int):
    return SimpleUploadedFile("big.jpg", b"\xff" * size, content_type="image/jpeg")


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body of an oversized request was read")

    readline = readinto = read


# A view that takes bigger uploads than the cap, like the spreadsheet import.
@max_upload_size(4 * CAP)
def import_view(request):
    return HttpResponse(str(request.FILES["file"].size))


urlpatterns = [path("import/", import_view), path("", include("contacts_portal.urls"))]


def test_an_upload_over_the_cap_is_refused_with_a_message_and_nothing_is_saved(admin_client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    response = admin_client.post(CREATE, contact_form(photo=photo_of(CAP + 1)))

    assert response.status_code == 413
    assert REFUSED in response.content.decode()
    assert not Contact.objects.exists()
    assert not any(tmp_path.rglob("*"))


def test_through_htmx_the_refusal_comes_as_a_message_for_the_page(admin_client):
    response = admin_client.post(CREATE, contact_form(photo=photo_of(CAP + 1)), headers={"HX-Request": "true"})

    assert response.status_code == 413
    assert json.loads(response["HX-Trigger"]) == {"show-message": {"message": REFUSED}}
    assert response.content.decode() == REFUSED
    assert not Contact.objects.exists()


def test_an_upload_under_the_cap_goes_through(admin_client):
    response = admin_client.post(CREATE, contact_form(photo=png()))
    assert response.status_code == 302
    assert Contact.objects.get().photo


@pytest.mark.parametrize("content_type", [MULTIPART_CONTENT, "application/x-www-form-urlencoded"])
def test_the_body_of_an_oversized_request_is_never_read(admin_client, content_type):
    # A form without files is capped by DATA_UPLOAD_MAX_MEMORY_SIZE instead.
    cap = CAP if content_type == MULTIPART_CONTENT else django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    response = admin_client.generic(
        "POST", CREATE, CONTENT_TYPE=content_type, CONTENT_LENGTH=str(cap + 1), **{"wsgi.input": Unreadable()}
    )

    assert response.status_code == 413
    assert not Contact.objects.exists()


def test_an_understated_content_length_does_not_get_a_bigger_upload_through(admin_user):
    # Over ASGI the body arrives whole, whatever Content-Length says; the
    # upload is stopped as soon as more than the cap has come in.
    client = AsyncClient()
    async_to_sync(client.aforce_login)(admin_user)
    body = encode_multipart(BOUNDARY, contact_form(photo=photo_of(CAP + 1)))

    response = async_to_sync(client.request)(
        method="POST",
        path=CREATE,
        headers=[
            (b"host", b"testserver"),
            (b"content-type", MULTIPART_CONTENT.encode()),
            (b"content-length", b"1000"),
            (b"hx-request", b"true"),
        ],
        _body_file=FakePayload(body),
    )

    assert response.status_code == 413
    assert not Contact.objects.exists()


@pytest.mark.urls(__name__)
def test_a_view_may_accept_more_than_the_cap(admin_client):
    bigger = admin_client.post("/import/", {"file": photo_of(2 * CAP)})
    assert bigger.status_code == 200
    assert bigger.content == str(2 * CAP).encode()

    too_big = admin_client.post("/import/", {"file": photo_of(4 * CAP + 1)})
    assert too_big.status_code == 413
    assert "256 KB" in too_big.content.decode()


@pytest.mark.parametrize("size, text", [(10 * 1024 * 1024, "10 MB"), (3 * 1024 * 1024 // 2, "1,5 MB"), (CAP, "64 KB")])
def test_the_limit_reads_in_megabytes_or_kilobytes(size, text):
    assert readable_size(size) == text


def test_the_cap_is_ten_megabytes_unless_the_environment_says_otherwise():
    assert production_settings().MAX_UPLOAD_SIZE == 10 * 1024 * 1024
    assert production_settings(MAX_UPLOAD_SIZE=str(50 * 1024 * 1024)).MAX_UPLOAD_SIZE == 50 * 1024 * 1024
