import pytest
from django.contrib.auth.models import Group

from contacts.tests.factories import ContactFactory, TagFactory, UserFactory, WalletFactory


@pytest.fixture
def admin_user(db):
    """An administrator: member of the Administrators group, not a superuser."""
    user = UserFactory(username="alice-admin")
    user.groups.add(Group.objects.get(name="Administrators"))
    return user


@pytest.fixture
def agent(db):
    """An agent responsible for the "Carteira Ana" wallet."""
    user = UserFactory(username="ana")
    user.groups.add(Group.objects.get(name="Agents"))
    return user


@pytest.fixture
def other_agent(db):
    """An agent of another wallet: must never see the first agent's contacts."""
    user = UserFactory(username="bruno")
    user.groups.add(Group.objects.get(name="Agents"))
    return user


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
