"""The audit trail: one function writes it, with the user and the source of
the current recording; administrators read it in Django admin, where nobody
changes or deletes it, not even a superuser."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from audit.models import AuditEvent
from audit.recording import Source, recording
from audit.services import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_admin_client(client, django_user_model):
    user = django_user_model.objects.create_user("staff-admin", is_staff=True)
    user.groups.add(Group.objects.get(name="Administrators"))
    client.force_login(user)
    return client


def test_administrators_hold_the_permission_to_read_the_audit_trail(django_user_model):
    user = django_user_model.objects.create_user("reader")
    user.groups.add(Group.objects.get(name="Administrators"))
    assert user.has_perm("audit.view_auditevent")
    assert not user.has_perm("audit.change_auditevent")


def test_jobs_and_commands_record_through_the_same_function(admin_user):
    with recording(source=Source.COMMAND, user=admin_user):
        event = audit_record(action=AuditEvent.Action.EXPORT, parameters={"file": "contatos.xlsx"}, counts={"rows": 10})
    assert (event.user, event.source, event.parameters, event.counts) == (
        admin_user, "command", {"file": "contatos.xlsx"}, {"rows": 10},
    )


def test_administrators_browse_the_audit_trail_filtered_but_nobody_can_change_it(staff_admin_client):
    event = audit_record(action=AuditEvent.Action.DELETE, counts={"contacts": 2})
    changelist = reverse("admin:audit_auditevent_changelist")
    assert staff_admin_client.get(changelist, {"action__exact": "delete"}).status_code == 200
    assert staff_admin_client.get(reverse("admin:audit_auditevent_change", args=[event.pk])).status_code == 200
    assert staff_admin_client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert staff_admin_client.post(reverse("admin:audit_auditevent_change", args=[event.pk]), {"action": "import"}).status_code == 403
    assert staff_admin_client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.action == "delete"


def test_a_superuser_cannot_delete_audit_events_either(client, django_user_model):
    event = audit_record(action=AuditEvent.Action.DELETE)
    client.force_login(django_user_model.objects.create_superuser("root", password="x"))
    response = client.post(
        reverse("admin:audit_auditevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    assert response.status_code in (200, 302)
