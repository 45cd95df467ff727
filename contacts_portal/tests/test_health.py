"""/healthz answers a load balancer without a log-in, whatever host or
scheme it probes with, and tells only whether this process can serve."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client
from django.utils import timezone

from jobs.models import Worker

pytestmark = pytest.mark.django_db

FIELDS = {"status", "database", "migrations", "worker_heartbeat_age_seconds", "worker_heartbeat_age_seconds_by_queue"}
NEVER_SEEN = {"default": None, "media": None}


def test_it_answers_200_without_a_log_in_when_the_database_is_migrated(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "migrations": "applied",
        "worker_heartbeat_age_seconds": None,
        "worker_heartbeat_age_seconds_by_queue": NEVER_SEEN,
    }
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies


def test_it_says_how_long_ago_a_worker_was_last_seen(client):
    now = timezone.now()
    Worker.objects.create(worker_id="w1", host="web-1", pid=4242, started_at=now - timedelta(hours=1), seen_at=now - timedelta(seconds=40))

    body = client.get("/healthz").json()

    assert 40 <= body["worker_heartbeat_age_seconds"] <= 45
    assert set(body) == FIELDS
    assert "web-1" not in str(body) and "4242" not in str(body)


def test_each_queue_says_how_long_ago_a_worker_serving_it_was_last_seen(client):
    # The media worker beats; the one running imports and exports was
    # killed ten minutes ago: the queue's own age shows it.
    now = timezone.now()
    started = now - timedelta(hours=1)
    Worker.objects.create(worker_id="jobs", host="w", pid=1, started_at=started, seen_at=now - timedelta(minutes=10), queues="default")
    Worker.objects.create(worker_id="media", host="w", pid=2, started_at=started, seen_at=now - timedelta(seconds=5), queues="media")

    body = client.get("/healthz").json()

    assert 5 <= body["worker_heartbeat_age_seconds"] <= 10
    by_queue = body["worker_heartbeat_age_seconds_by_queue"]
    assert set(by_queue) == {"default", "media"}
    assert 600 <= by_queue["default"] <= 605
    assert 5 <= by_queue["media"] <= 10
    assert body["status"] == "ok"  # an alert, not a reason to take the machine out


def test_a_worker_of_every_queue_but_one_counts_for_the_others_only(client):
    now = timezone.now()
    Worker.objects.create(
        worker_id="all", host="w", pid=1, started_at=now, seen_at=now - timedelta(seconds=3), queues="*", excluded_queues="media"
    )

    by_queue = client.get("/healthz").json()["worker_heartbeat_age_seconds_by_queue"]

    assert 3 <= by_queue["default"] <= 8
    assert by_queue["media"] is None


def test_a_running_jobs_progress_counts_for_the_jobs_queue(client, admin_user):
    from jobs.models import Job

    Job.objects.create(
        kind="export", user=admin_user, status=Job.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now() - timedelta(seconds=20)
    )

    by_queue = client.get("/healthz").json()["worker_heartbeat_age_seconds_by_queue"]

    assert 20 <= by_queue[Job.QUEUE_NAME] <= 25
    assert by_queue["media"] is None


@pytest.mark.parametrize("host", ["10.0.3.7", "web-1.internal:8000"])
def test_a_probe_by_an_address_outside_allowed_hosts_over_plain_http_gets_its_answer(client, settings, host):
    settings.ALLOWED_HOSTS = ["contacts.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/healthz", headers={"host": host})

    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_it_answers_503_while_a_migration_is_pending(client):
    # As after a deploy whose code brings a migration not yet applied.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'contacts' AND name = (SELECT MAX(name) FROM django_migrations WHERE app = 'contacts')")

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "migrations": "pending",
        "worker_heartbeat_age_seconds": None,
        "worker_heartbeat_age_seconds_by_queue": None,
    }


def test_it_answers_503_when_the_database_does_not_answer(client):
    with mock.patch.object(BaseDatabaseWrapper, "ensure_connection", side_effect=OperationalError("connection refused to 10.0.0.9")):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "unreachable",
        "migrations": "unknown",
        "worker_heartbeat_age_seconds": None,
        "worker_heartbeat_age_seconds_by_queue": None,
    }
    assert b"10.0.0.9" not in response.content


def test_only_reading_is_allowed(client):
    assert client.post("/healthz").status_code == 405


def test_other_addresses_go_on_to_the_site(client):
    assert client.get("/healthz/more").status_code == 404
    assert client.get("/").status_code == 302


def test_a_logged_in_administrator_gets_the_same_answer(admin_user):
    client = Client()
    client.force_login(admin_user)

    assert client.get("/healthz").json()["status"] == "ok"
