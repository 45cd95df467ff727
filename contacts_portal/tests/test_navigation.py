"""The menu lights up the part of the panel a page belongs to, whichever
app serves it: a contact's tabs are the contacts', a job's page the jobs'."""

import re

import pytest
from django.urls import reverse

from contacts.tests.factories import ContactFactory
from jobs.models import Job

pytestmark = pytest.mark.django_db


def active_entries(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<a class="app-nav-link active" href="([^"]+)"', html)


def test_a_contacts_tabs_light_up_the_contacts(admin_client):
    contact = ContactFactory()

    for url in (
        reverse("contacts:list"),
        reverse("contacts:update", args=[contact.pk]),
        reverse("tickets:contact_tickets", args=[contact.pk]),
        reverse("lgpd:contact", args=[contact.pk]),
        reverse("contacts:duplicates"),
    ):
        assert active_entries(admin_client.get(url)) == [reverse("contacts:list")], url


def test_the_tickets_light_up_the_tickets(admin_client):
    assert active_entries(admin_client.get(reverse("tickets:list"))) == [reverse("tickets:list")]


def test_the_jobs_list_and_a_jobs_page_light_up_the_jobs(admin_client, admin_user):
    job = Job.objects.create(kind=Job.Kind.EXPORT, user=admin_user)

    for url in (reverse("jobs:list"), reverse("jobs:detail", args=[job.token])):
        assert active_entries(admin_client.get(url)) == [reverse("jobs:list")], url


def test_the_pages_shown_are_around_the_current_one(admin_client, settings):
    settings.CONTACTS_PAGE_SIZES = (2, 25)
    ContactFactory.create_batch(21)  # 11 pages of 2

    html = admin_client.get(reverse("contacts:list"), {"page": 6}).content.decode()
    pages = html[html.index('aria-label="Páginas"') :]

    assert re.findall(r'aria-current="page"><span class="page-link">(\d+)<', pages) == ["6"]
    assert re.findall(r'class="page-link"[^>]*>(\d+|…)<', pages) == ["1", "…", "5", "6", "7", "…", "11"]
    # The words beside the arrows, which a phone hides and a screen reader reads.
    assert '<span class="app-page-word">Anterior</span>' in pages and '<span class="app-page-word">Próxima</span>' in pages
