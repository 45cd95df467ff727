"""`manage.py bulk_contacts` and the services it shares with the list's
bulk actions: counts, the fixed set, the work, history and audit, undo."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone, translation

from audit.models import AuditEvent
from bulk.models import Action, Member
from bulk.services import BulkError, Target, bulk_confirm, bulk_prepare, bulk_undo_start
from contacts.models import Contact
from contacts.tests.factories import ContactFactory, TagFactory, WalletFactory
from jobs.models import Job
from jobs.tasks import run_job

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    # The services' messages are read here in English, whatever a test
    # before left active.
    with translation.override("en"):
        yield


def bulk(*args) -> str:
    out = StringIO()
    call_command("bulk_contacts", *args, stdout=out)
    return out.getvalue()


def tagged(tag) -> set[str]:
    return set(tag.contacts.values_list("name", flat=True))


def run(job) -> Job:
    run_job.call(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_a_dry_run_prints_how_many_will_get_the_tag_and_how_many_have_it_and_changes_nothing():
    vip = TagFactory(name="VIP")
    ContactFactory(name="Ana Souza", tags=[vip])
    ContactFactory(name="Ana Lima")
    ContactFactory(name="Ana Reis")
    ContactFactory(name="Bruno")
    before = Contact.history.count()

    out = bulk("--q", "ana", "--add-tag", "VIP", "--dry-run")

    assert out.strip() == "2 contacts will get the tag VIP; 1 already has it. Dry run: nothing was changed."
    assert tagged(vip) == {"Ana Souza"}
    assert Contact.history.count() == before
    assert not Job.objects.exists()
    assert not AuditEvent.objects.exists()


def test_adding_a_tag_tags_those_found_records_each_in_history_as_a_bulk_action_and_audits_the_run():
    vip, other = TagFactory(name="VIP"), TagFactory(name="Outra")
    had = ContactFactory(name="Ana Souza", tags=[vip])
    lacked = ContactFactory(name="Ana Lima", tags=[other])
    ContactFactory(name="Bruno")

    out = bulk("--q", "ana", "--add-tag", "vip")

    assert out.startswith("1 of 2 contacts changed (1 already so).")
    assert tagged(vip) == {"Ana Souza", "Ana Lima"}
    record = Contact.history.filter(id=lacked.pk).latest("history_id")
    assert record.history_source == "bulk"
    assert record.history_type == "~"
    # The record holds the contact's tags as they became: both.
    assert set(record.tags.values_list("tag_id", flat=True)) == {vip.pk, other.pk}
    assert Contact.history.filter(id=had.pk, history_source="bulk").count() == 0
    event = AuditEvent.objects.get()
    assert (event.action, event.source, event.counts) == ("bulk_action", "bulk", {"contacts": 2, "changed": 1})
    assert event.parameters["tag_name"] == "VIP"


def test_the_history_page_says_the_tag_was_added_through_a_bulk_action(admin_client):
    vip = TagFactory(name="VIP")
    contact = ContactFactory(name="Ana Lima")
    bulk("--q", "ana", "--add-tag", "VIP")

    page = admin_client.get(f"/contacts/{contact.pk}/history/").content.decode()

    assert "Ação em massa adicionou a etiqueta “VIP”" in page


def test_removing_a_tag_takes_it_only_from_those_that_had_it():
    vip = TagFactory(name="VIP")
    ContactFactory(name="Ana Souza", tags=[vip])
    ContactFactory(name="Ana Lima")
    ContactFactory(name="Bruno", tags=[vip])

    assert bulk("--q", "ana", "--remove-tag", "VIP", "--dry-run").startswith("1 contact will lose the tag VIP; 1 does not have it.")
    bulk("--q", "ana", "--remove-tag", "VIP")

    assert tagged(vip) == {"Bruno"}


def test_moving_to_a_wallet_moves_those_found_and_the_count_says_how_many_are_there_already():
    north, south = WalletFactory(name="Norte"), WalletFactory(name="Sul")
    ContactFactory(name="Ana Souza", wallet=north)
    ContactFactory(name="Ana Lima", wallet=south)
    ContactFactory(name="Ana Reis")

    assert bulk("--q", "ana", "--move-to-wallet", "Sul", "--dry-run").startswith(
        "2 contacts will move to the wallet Sul; 1 is already in it."
    )
    bulk("--q", "ana", "--move-to-wallet", "Sul")

    assert set(Contact.objects.filter(wallet=south).values_list("name", flat=True)) == {"Ana Souza", "Ana Lima", "Ana Reis"}


def test_the_filters_are_the_lists_wallet_tag_and_birthday():
    north = WalletFactory(name="Norte")
    vip, done = TagFactory(name="VIP"), TagFactory(name="Feito")
    today = timezone.localdate()
    ContactFactory(name="Ana", wallet=north, tags=[vip], birth_date=date(1990, today.month, today.day))
    ContactFactory(name="Bia", wallet=north, tags=[vip])
    ContactFactory(name="Caio", tags=[vip], birth_date=date(1990, today.month, today.day))

    bulk("--wallet", "Norte", "--tag", "VIP", "--birthday", "today", "--add-tag", "Feito")

    assert tagged(done) == {"Ana"}


def test_deleting_removes_the_contacts_and_their_history_keeps_their_last_values():
    vip = TagFactory(name="VIP")
    gone = ContactFactory(name="Ana Lima", company="ACME", tags=[vip])
    ContactFactory(name="Bruno")

    out = bulk("--q", "ana", "--delete")

    assert out.startswith("1 of 1 contacts changed")
    assert list(Contact.objects.values_list("name", flat=True)) == ["Bruno"]
    last = Contact.history.filter(id=gone.pk).latest("history_id")
    assert (last.history_type, last.name, last.company, last.history_source) == ("-", "Ana Lima", "ACME", "bulk")
    assert AuditEvent.objects.get().parameters["action"] == "delete"


def test_bad_input_is_a_clear_error_and_changes_nothing():
    ContactFactory(name="Ana")
    with pytest.raises(CommandError, match="no tag named 'Nope'"):
        bulk("--add-tag", "Nope")
    with pytest.raises(CommandError, match="no wallet named 'Nope'"):
        bulk("--move-to-wallet", "Nope")
    with pytest.raises(CommandError, match="no user named 'nobody'"):
        bulk("--delete", "--user", "nobody")
    with pytest.raises(CommandError, match="No contact is selected"):
        bulk("--q", "zzz", "--delete")
    assert Contact.objects.count() == 1
    assert not Job.objects.exists()


def test_as_an_agent_it_works_only_on_the_contacts_they_see_and_may_not_delete(agent, agent_wallet, other_wallet):
    vip = TagFactory(name="VIP")
    ContactFactory(name="Ana Minha", wallet=agent_wallet)
    ContactFactory(name="Ana Alheia", wallet=other_wallet)

    bulk("--q", "ana", "--add-tag", "VIP", "--user", "ana")

    assert tagged(vip) == {"Ana Minha"}
    with pytest.raises(CommandError, match="Only administrators may delete"):
        bulk("--q", "ana", "--delete", "--user", "ana")
    with pytest.raises(CommandError, match="only to your own wallets"):
        bulk("--q", "ana", "--move-to-wallet", other_wallet.name, "--user", "ana")
    assert Contact.objects.count() == 2


def test_an_agent_may_move_contacts_into_their_own_wallet(agent, agent_wallet):
    ContactFactory(name="Ana Sem Carteira")

    bulk("--move-to-wallet", agent_wallet.name, "--user", "ana")

    assert Contact.objects.get().wallet == agent_wallet


def test_the_set_is_fixed_when_counted_a_contact_that_matches_later_is_left_out(admin_user):
    vip = TagFactory(name="VIP")
    ContactFactory(name="Ana Lima")
    job = bulk_prepare(user=admin_user, contacts=Contact.objects.search("ana"), target=Target(Action.ADD_TAG, tag=vip))
    ContactFactory(name="Ana Nova")

    bulk_confirm(job=job, user=admin_user, run_now=True)
    run(job)

    assert tagged(vip) == {"Ana Lima"}
    assert job.result["changed"] == 1


def test_a_delete_needs_the_count_typed(admin_user):
    ContactFactory(name="Ana Lima")
    ContactFactory(name="Ana Reis")
    job = bulk_prepare(user=admin_user, contacts=Contact.objects.all(), target=Target(Action.DELETE))

    with pytest.raises(BulkError, match="Type the number of contacts to delete, 2"):
        bulk_confirm(job=job, user=admin_user, typed="1", run_now=True)

    job.refresh_from_db()
    assert job.status == Job.Status.DRAFT
    assert Contact.objects.count() == 2


def done_job(action: str, **target) -> Job:
    return Job.objects.filter(kind=Job.Kind.BULK, parameters__action=action).latest("pk")


def test_undoing_a_tag_takes_it_from_those_it_gave_it_to_but_not_from_those_changed_since(admin_user):
    vip = TagFactory(name="VIP")
    ContactFactory(name="Ana Souza", tags=[vip])
    ContactFactory(name="Ana Lima")
    edited = ContactFactory(name="Ana Reis")
    bulk("--q", "ana", "--add-tag", "VIP")
    edited.company = "Mudou depois"
    edited.save()

    undo = run(bulk_undo_start(job=done_job("add_tag"), user=admin_user, run_now=True))

    # Ana Souza had it before; Ana Reis was edited since the action.
    assert tagged(vip) == {"Ana Souza", "Ana Reis"}
    assert (undo.result["restored"], undo.result["left"]) == (1, 1)
    assert AuditEvent.objects.filter(action="bulk_undo").get().counts == {"contacts": 2, "restored": 1}


def test_undoing_a_tag_removal_gives_it_back_to_those_that_had_it():
    vip = TagFactory(name="VIP")
    ContactFactory(name="Ana Souza", tags=[vip])
    ContactFactory(name="Ana Lima")
    bulk("--q", "ana", "--remove-tag", "VIP")
    assert tagged(vip) == set()

    run(bulk_undo_start(job=done_job("remove_tag"), user=None, run_now=True))

    assert tagged(vip) == {"Ana Souza"}


def test_undoing_a_move_puts_each_contact_back_in_its_own_wallet_unless_moved_again_since(admin_user):
    north, south, east = WalletFactory(name="Norte"), WalletFactory(name="Sul"), WalletFactory(name="Leste")
    a = ContactFactory(name="Ana Souza", wallet=north)
    b = ContactFactory(name="Ana Lima")
    c = ContactFactory(name="Ana Reis", wallet=east)
    d = ContactFactory(name="Ana Dias", wallet=south)
    bulk("--q", "ana", "--move-to-wallet", "Sul")
    c.wallet = north
    c.save()

    run(bulk_undo_start(job=done_job("move"), user=admin_user, run_now=True))

    wallets = {contact.pk: contact.wallet for contact in Contact.objects.all()}
    assert wallets == {a.pk: north, b.pk: None, c.pk: north, d.pk: south}


def test_an_action_is_undone_once_and_only_within_the_retention(admin_user, settings):
    vip = TagFactory(name="VIP")
    ContactFactory(name="Ana Lima")
    bulk("--add-tag", "VIP")
    job = done_job("add_tag")
    bulk_undo_start(job=job, user=admin_user, run_now=True)
    with pytest.raises(BulkError, match="already undone"):
        bulk_undo_start(job=job, user=admin_user, run_now=True)

    bulk("--add-tag", "VIP")
    later = done_job("add_tag")
    Job.objects.filter(pk=later.pk).update(created_at=timezone.now() - timezone.timedelta(days=settings.JOB_FILE_RETENTION_DAYS + 1))
    later.refresh_from_db()
    with pytest.raises(BulkError, match="undone for 7 days only"):
        bulk_undo_start(job=later, user=admin_user, run_now=True)
    assert vip.contacts.count() == 1


def test_a_delete_cannot_be_undone(admin_user):
    ContactFactory(name="Ana Lima")
    bulk("--delete")
    with pytest.raises(BulkError, match="Only tags and wallet moves"):
        bulk_undo_start(job=done_job("delete"), user=admin_user, run_now=True)


def test_old_fixed_sets_are_dropped_with_the_jobs_files(settings):
    from jobs.files import purge_expired_job_files

    TagFactory(name="VIP")
    ContactFactory(name="Ana Lima")
    bulk("--add-tag", "VIP")
    Job.objects.update(created_at=timezone.now() - timezone.timedelta(days=settings.JOB_FILE_RETENTION_DAYS + 1))
    assert Member.objects.exists()

    purge_expired_job_files()

    assert not Member.objects.exists()


@pytest.fixture
def small_chunks(monkeypatch):
    # Two contacts a chunk: every step runs chunk after chunk, each chunk's
    # history records taking the tags of its own contacts.
    monkeypatch.setattr("bulk.services.CHUNK", 2)


def bulk_records(contact) -> list:
    return list(Contact.history.filter(id=contact.pk, history_source="bulk").order_by("history_id"))


def tag_ids(record) -> set[int]:
    return set(record.tags.values_list("tag_id", flat=True))


def test_a_set_of_many_chunks_is_tagged_and_undone_whole_each_record_with_its_own_contacts_tags(small_chunks, admin_user):
    vip, old, other = TagFactory(name="VIP"), TagFactory(name="Antiga"), TagFactory(name="Outra")
    contacts = [ContactFactory(name=f"Ana {i}", tags=[old] if i % 2 else [other]) for i in range(7)]
    had = ContactFactory(name="Ana Tinha", tags=[vip])

    out = bulk("--q", "ana", "--add-tag", "VIP")

    assert out.startswith("7 of 8 contacts changed (1 already so).")
    for i, contact in enumerate(contacts):
        [record] = bulk_records(contact)
        assert tag_ids(record) == {vip.pk, old.pk if i % 2 else other.pk}
    assert bulk_records(had) == []

    undo = run(bulk_undo_start(job=done_job("add_tag"), user=admin_user, run_now=True))

    assert undo.result["restored"] == 7
    assert tagged(vip) == {"Ana Tinha"}
    for i, contact in enumerate(contacts):
        assert tag_ids(bulk_records(contact)[-1]) == {old.pk if i % 2 else other.pk}


def test_removing_a_tag_over_many_chunks_records_each_contact_without_it_and_the_undo_gives_it_back(small_chunks):
    vip, other = TagFactory(name="VIP"), TagFactory(name="Outra")
    contacts = [ContactFactory(name=f"Ana {i}", tags=[vip, other] if i % 3 else [other]) for i in range(6)]

    bulk("--q", "ana", "--remove-tag", "VIP")

    assert tagged(vip) == set()
    for i, contact in enumerate(contacts):
        assert [tag_ids(record) for record in bulk_records(contact)] == ([{other.pk}] if i % 3 else [])

    run(bulk_undo_start(job=done_job("remove_tag"), user=None, run_now=True))

    assert tagged(vip) == {f"Ana {i}" for i in range(6) if i % 3}


def test_a_move_over_many_chunks_records_the_new_wallet_and_its_undo_the_old_one(small_chunks):
    north, south = WalletFactory(name="Norte"), WalletFactory(name="Sul")
    contacts = [ContactFactory(name=f"Ana {i}", wallet=[north, None, south][i % 3]) for i in range(6)]

    bulk("--q", "ana", "--move-to-wallet", "Sul")

    assert Contact.objects.filter(wallet=south).count() == 6
    for i, contact in enumerate(contacts):
        assert [record.wallet_id for record in bulk_records(contact)] == ([] if i % 3 == 2 else [south.pk])

    run(bulk_undo_start(job=done_job("move"), user=None, run_now=True))

    assert {contact.pk: contact.wallet_id for contact in Contact.objects.all()} == {
        contact.pk: [north.pk, None, south.pk][i % 3] for i, contact in enumerate(contacts)
    }
    for i, contact in enumerate(contacts):
        if i % 3 != 2:
            assert bulk_records(contact)[-1].wallet_id == [north.pk, None][i % 3]


def test_a_contact_that_got_the_tag_between_the_count_and_the_run_is_not_counted_changed_and_keeps_it_after_the_undo(admin_user):
    vip = TagFactory(name="VIP")
    ana = ContactFactory(name="Ana Lima")
    ContactFactory(name="Ana Reis")
    job = bulk_prepare(user=admin_user, contacts=Contact.objects.search("ana"), target=Target(Action.ADD_TAG, tag=vip))
    assert job.result["preview"]["change"] == 2
    ana.tags.add(vip)  # by someone else, after the count

    bulk_confirm(job=job, user=admin_user, run_now=True)
    run(job)
    assert job.result["changed"] == 1
    assert bulk_records(ana) == []

    undo = run(bulk_undo_start(job=job, user=admin_user, run_now=True))

    assert undo.result["restored"] == 1
    assert tagged(vip) == {"Ana Lima"}


def test_a_contact_deleted_between_the_count_and_the_run_is_left_out(admin_user):
    vip, north = TagFactory(name="VIP"), WalletFactory(name="Norte")
    gone = ContactFactory(name="Ana Lima")
    ContactFactory(name="Ana Reis")
    tagging = bulk_prepare(user=admin_user, contacts=Contact.objects.search("ana"), target=Target(Action.ADD_TAG, tag=vip))
    moving = bulk_prepare(user=admin_user, contacts=Contact.objects.search("ana"), target=Target(Action.MOVE, wallet=north))
    gone.delete()

    for job in (tagging, moving):
        bulk_confirm(job=job, user=admin_user, run_now=True)
        run(job)
        assert (job.result["total"], job.result["changed"]) == (2, 1)
    assert tagged(vip) == {"Ana Reis"}
    assert Member.objects.filter(job=moving, changed=True).count() == 1
