import re
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse
from PIL import Image
from validate_docbr import CNPJ, CPF

from contacts.demo import GROUPS, MAX_PHOTOS
from contacts.models import Contact
from contacts.normalizers import normalize_phone, normalize_telegram_id

pytestmark = pytest.mark.django_db

LIST = reverse("contacts:list")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """The demo photos land in a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def names(response):
    return [contact.name for contact in response.context["page_obj"].object_list]


def test_seed_demo_creates_valid_brazilian_contacts_and_logins(capsys):
    call_command("seed_demo", "--contacts", "300", "--with-users", "--seed", "7")
    out = capsys.readouterr().out
    assert "Created 300 demo contacts." in out
    assert "login: admin" in out and "login: ana" in out
    assert Contact.objects.count() == 300
    for contact in Contact.objects.filter(is_group=False):
        assert normalize_phone(contact.number) == contact.number
        if contact.cpf_cnpj:
            assert CPF().validate(contact.cpf_cnpj) or CNPJ().validate(contact.cpf_cnpj)
        assert contact.name_key
    assert Contact.objects.filter(wallet__isnull=False).exists()
    assert Contact.objects.filter(tags__isnull=False).exists()
    assert Contact.objects.filter(custom_fields__isnull=False).exists()
    assert User.objects.get(username="ana").groups.filter(name="Agents").exists()


def test_running_seed_demo_twice_adds_without_duplicates():
    call_command("seed_demo", "--contacts", "200", "--seed", "1")
    call_command("seed_demo", "--contacts", "200", "--seed", "1")
    assert Contact.objects.count() == 400
    for column in ("number", "telegram_id"):
        values = list(Contact.objects.exclude(**{column: ""}).values_list(column, flat=True))
        assert len(values) == len(set(values))


def test_seed_demo_refuses_a_negative_count():
    with pytest.raises(CommandError):
        call_command("seed_demo", "--contacts", "-1")


def test_demo_data_has_whatsapp_and_telegram_groups_that_the_type_filter_lists(admin_client):
    call_command("seed_demo", "--contacts", "300", "--seed", "3")
    groups = Contact.objects.filter(is_group=True)
    assert sorted(groups.values_list("name", flat=True)) == sorted(name for name, _ in GROUPS)
    assert {"Vendas SP", "Suporte VIP"} <= set(groups.values_list("name", flat=True))
    for group in groups:
        if group.number:
            assert re.fullmatch(r"120363\d{12}", group.number)
            assert not group.telegram_id
        else:
            assert group.telegram_id.startswith("-100")
            assert normalize_telegram_id(group.telegram_id) == group.telegram_id
    assert sorted(names(admin_client.get(LIST, {"type": "groups"}))) == sorted(name for name, _ in GROUPS)
    html = admin_client.get(LIST, {"q": "vendas sp"}).content.decode()
    assert "Vendas SP" in html


def test_demo_photos_are_stored_like_uploads_and_served_by_the_panel(admin_client, media_root):
    call_command("seed_demo", "--contacts", "300", "--seed", "5")
    with_photo = list(Contact.objects.exclude(photo=""))
    assert len(with_photo) == MAX_PHOTOS
    assert not any(contact.is_group for contact in with_photo)
    assert len(list(media_root.rglob("*.jpg"))) == MAX_PHOTOS
    for contact in with_photo:
        # Where and how the panel stores an upload: under the field's
        # folder, a random name, re-encoded JPEG of at most 512 px.
        assert re.fullmatch(r"contacts/photos/\d{4}/\d{2}/[0-9a-f]{32}\.jpg", contact.photo.name)
        assert default_storage.exists(contact.photo.name)
        with Image.open(contact.photo.path) as image:
            assert image.format == "JPEG" and max(image.size) <= 512
    response = admin_client.get(reverse("contacts:photo", args=[with_photo[0].pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"
    html = admin_client.get(LIST, {"q": with_photo[0].name}).content.decode()
    assert reverse("contacts:photo", args=[with_photo[0].pk]) in html


def test_a_small_seed_makes_fewer_groups_and_photos():
    call_command("seed_demo", "--contacts", "40", "--seed", "2")
    assert Contact.objects.count() == 40
    assert Contact.objects.filter(is_group=True).count() == 2
    assert Contact.objects.exclude(photo="").count() == 4
    call_command("seed_demo", "--contacts", "5", "--seed", "2")
    assert Contact.objects.filter(is_group=True).count() == 2


def test_demo_extra_fields_are_found_by_the_search(admin_client):
    call_command("seed_demo", "--contacts", "300", "--seed", "11")
    contact = Contact.objects.filter(custom_fields__isnull=False, is_group=False).first()
    value = contact.custom_fields.get().value
    assert contact.pk in [c.pk for c in Contact.objects.search(value)]
    found = admin_client.get(LIST, {"q": f"{contact.first_name} {value}", "per_page": 100})
    assert contact.name in names(found)


def test_seed_demo_can_add_duplicates_that_remover_duplicados_finds(db):
    from dedup.finding import find_duplicates

    call_command("seed_demo", "--contacts", "300", "--duplicates", "9", "--seed", "5", stdout=StringIO())
    assert Contact.objects.count() == 309
    groups = find_duplicates()
    assert len(groups) == 9
    assert {rule for group in groups for rule in group.rules} == {"number", "email", "cpf_cnpj"}
