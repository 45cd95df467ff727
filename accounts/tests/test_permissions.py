"""A user's permissions, read in one statement: the same answers as
Django's ModelBackend, whose two queries every page paid for."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.test import Client
from django.urls import reverse

from accounts.backends import PermissionsBackend

pytestmark = pytest.mark.django_db


def permission(label: str) -> Permission:
    app_label, codename = label.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def fresh(user):
    """The user as a new request loads it: nothing cached."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def agent():
    user = get_user_model().objects.create_user("agent", password="x")
    agents, supervisors = Group.objects.create(name="agents"), Group.objects.create(name="supervisors")
    agents.permissions.add(permission("contacts.view_contact"), permission("contacts.change_contact"))
    supervisors.permissions.add(permission("contacts.change_contact"), permission("contacts.merge_contacts"))
    user.groups.add(agents, supervisors)
    user.user_permissions.add(permission("tickets.view_ticket"), permission("contacts.view_contact"))
    Group.objects.create(name="not hers").permissions.add(permission("contacts.delete_contact"))
    return user


def test_a_user_has_their_own_permissions_and_their_groups_as_django_reads_them(agent):
    expected = {"contacts.view_contact", "contacts.change_contact", "contacts.merge_contacts", "tickets.view_ticket"}
    assert PermissionsBackend().get_all_permissions(fresh(agent)) == expected
    assert ModelBackend().get_all_permissions(fresh(agent)) == expected


def test_a_users_permissions_are_read_in_one_statement_once_per_request(agent, django_assert_num_queries):
    user, expected = fresh(agent), ModelBackend().get_all_permissions(fresh(agent))
    with django_assert_num_queries(1):
        assert user.has_perm("contacts.merge_contacts")
        assert not user.has_perm("contacts.delete_contact")
        assert PermissionsBackend().get_all_permissions(user) == expected


def test_a_permission_taken_from_a_group_is_gone_at_the_next_request(agent):
    Group.objects.get(name="supervisors").permissions.remove(permission("contacts.merge_contacts"))
    assert not fresh(agent).has_perm("contacts.merge_contacts")
    agent.groups.clear()
    agent.user_permissions.clear()
    assert PermissionsBackend().get_all_permissions(fresh(agent)) == set()


def test_an_inactive_user_or_a_visitor_has_no_permission_and_a_superuser_has_every_one(agent):
    agent.is_active = False
    assert PermissionsBackend().get_all_permissions(agent) == set()
    assert PermissionsBackend().get_all_permissions(AnonymousUser()) == set()
    admin = get_user_model().objects.create_superuser("admin", password="x")
    assert PermissionsBackend().get_all_permissions(fresh(admin)) == ModelBackend().get_all_permissions(fresh(admin))
    assert fresh(admin).has_perm("contacts.delete_contact")


def test_the_contact_list_shows_an_agent_what_their_groups_allow(agent):
    client = Client()
    client.force_login(agent)
    page = client.get(reverse("contacts:list"))
    assert page.status_code == 200
    Group.objects.get(name="agents").permissions.clear()
    agent.user_permissions.remove(permission("contacts.view_contact"))
    assert client.get(reverse("contacts:list")).status_code == 403
