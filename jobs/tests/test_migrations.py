"""Syncs were jobs of their own (tickets.SyncJob) before every job was a
jobs.Job: the migration keeps each one, its counts and notes, and its
old address."""

import pytest
from django.urls import reverse

from contacts_portal.tests.migrating import leaves, migrate

# Restores what it found, as every transactional test here does (a plain
# flush would make content types anew, which the next restore duplicates).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = [("tickets", "0004_ticket_merged_into"), ("jobs", "0001_initial")]


def test_every_sync_job_becomes_a_job_that_keeps_what_it_did_and_its_address(client, admin_user):
    old_apps = migrate(BEFORE)
    try:
        SyncJob = old_apps.get_model("tickets", "SyncJob")
        old = SyncJob.objects.create(
            kind="groups", user_id=admin_user.pk, status="done", language="en", counts={"contacts_created": 3}, notes=["WhatsApp: ok"]
        )
    finally:
        new_apps = migrate(leaves())
    job = new_apps.get_model("jobs", "Job").objects.get(parameters__sync_job=old.pk)
    assert (job.kind, job.status, job.user_id) == ("sync_groups", "done", admin_user.pk)
    assert job.result == {"contacts_created": 3, "notes": ["WhatsApp: ok"]}
    assert job.parameters["language"] == "en" and job.created_at == old.created_at
    client.force_login(admin_user)
    response = client.get(reverse("tickets:job", args=[old.pk]))
    assert response.status_code == 307
    assert admin_user.has_perm("tickets.sync_contacts")


def test_an_old_failure_that_showed_an_exceptions_name_shows_the_plain_message_and_keeps_the_name_for_administrators(client, admin_user):
    old_apps = migrate([("jobs", "0003_sync_jobs_copied")])
    try:
        OldJob = old_apps.get_model("jobs", "Job")
        named = OldJob.objects.create(kind="export", user_id=admin_user.pk, status="failed", error="A tarefa falhou: KeyError")
        told = OldJob.objects.create(kind="import", user_id=admin_user.pk, status="failed", error="A planilha está vazia.")
    finally:
        new_apps = migrate(leaves())
    Job = new_apps.get_model("jobs", "Job")
    assert Job.objects.filter(pk=named.pk).values_list("error", "error_detail").get() == ("", "KeyError")
    assert Job.objects.filter(pk=told.pk).values_list("error", "error_detail").get() == ("A planilha está vazia.", "")
    client.force_login(admin_user)
    page = client.get(reverse("jobs:detail", args=[named.token])).content.decode()
    assert "Algo inesperado deu errado no servidor" in page and "KeyError" not in page
