import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group

from contacts.tests.factories import (
    ContactFactory,
    TagFactory,
    UserFactory,
    WalletFactory,
)
from contacts_portal.migrating import grant


@pytest.fixture(autouse=True)
def roles(request):
    """The groups come from a data migration; transactional tests (browser,
    concurrency) flush tables afterwards, so put them back when missing."""
    if "django_db_setup" not in request.fixturenames and not request.node.get_closest_marker("django_db"):
        return
    request.getfixturevalue("_django_db_helper")
    if not Group.objects.filter(name__in=["Administrators", "Agents"]).count() == 2:
        importlib.import_module("contacts.migrations.0002_roles").create_roles(apps, None)
        # contacts 0005 as it ran, but for the audit trail's permission, which
        # lives in audit now (audit 0002 grants it below).
        for app_label, codename in importlib.import_module("contacts.migrations.0005_history_roles_telegram_ids").ADMINISTRATOR_PERMISSIONS:
            if app_label != "contacts" or codename != "view_auditevent":
                grant(apps, group="Administrators", app_label=app_label, codenames=[codename])
        importlib.import_module("accounts.migrations.0001_administrators_unlock_log_ins").grant_unlock(apps, None)
        importlib.import_module("contacts.migrations.0008_jobs_import_export").grant_import_export(apps, None)
        importlib.import_module("tickets.migrations.0002_roles").grant_tickets(apps, None)
        importlib.import_module("tickets.migrations.0007_message_edits").grant_administrators(apps, None)
        importlib.import_module("contacts.migrations.0009_duplicate_merges").grant_merge(apps, None)
        importlib.import_module("contacts.migrations.0019_saved_segments").grant_sharing(apps, None)
        importlib.import_module("audit.migrations.0002_auditevent_content_type").grant_administrators(apps, None)
        importlib.import_module("jobs.migrations.0001_initial").grant_administrators(apps, None)
        importlib.import_module("jobs.migrations.0004_failure_details_and_workers").grant_administrators(apps, None)
        importlib.import_module("contacts.migrations.0022_opt_outs").grant_lift(apps, None)
        importlib.import_module("lgpd.migrations.0001_initial").grant_administrators(apps, None)


def user_in(group: str, username: str, **fields):
    user = UserFactory(username=username, **fields)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def admin_user(db):
    """An administrator: member of the Administrators group, not a superuser."""
    return user_in("Administrators", "alice-admin")


@pytest.fixture
def agent(db):
    """An agent responsible for the "Carteira Ana" wallet."""
    return user_in("Agents", "ana")


@pytest.fixture
def other_agent(db):
    """An agent of another wallet: must never see the first agent's contacts."""
    return user_in("Agents", "bruno")


@pytest.fixture
def agent_wallet(agent):
    return WalletFactory(name="Carteira Ana", user=agent)


@pytest.fixture
def other_wallet(other_agent):
    return WalletFactory(name="Carteira Bruno", user=other_agent)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def agent_client(client, agent, agent_wallet):
    client.force_login(agent)
    return client


@pytest.fixture
def contact_factory(db):
    return ContactFactory


@pytest.fixture
def tag_factory(db):
    return TagFactory
