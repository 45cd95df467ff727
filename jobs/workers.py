"""Whether anybody is processing jobs: each task worker records when it
was last seen (models.Worker, written by this project's `db_worker`), and a
running job's progress reports say the same of the worker running it. Each
record says which queues its worker serves: a waiting job asks for a
worker of its own queue.

last_worker_heartbeat() and last_worker_heartbeats() are the readings of
it for whoever asks from outside (a health check reports their ages); a
waiting job's page asks Job.waits_without_worker."""

import os
import socket
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django.utils import timezone

from .models import Worker

#: A worker not seen for this long was killed without saying goodbye: its
#: record is dropped.
FORGOTTEN_AFTER = timedelta(days=1)


def record_heartbeat(
    *, worker_id: str, started_at: datetime, queue_names: Sequence[str], excluded_queue_names: Sequence[str] = ()
) -> None:
    """This worker, serving these queues, is alive now (one UPDATE; an
    INSERT the first time). The queues are written with every beat: a
    worker started again under the same --worker-id may serve others."""
    now = timezone.now()
    serves = {"queues": ",".join(queue_names), "excluded_queues": ",".join(excluded_queue_names)}
    if not Worker.objects.filter(worker_id=worker_id).update(seen_at=now, **serves):
        Worker.objects.filter(seen_at__lt=now - FORGOTTEN_AFTER).delete()
        Worker.objects.update_or_create(
            worker_id=worker_id,
            defaults={"seen_at": now, **serves},
            create_defaults={"seen_at": now, "started_at": started_at, "host": socket.gethostname()[:255], "pid": os.getpid(), **serves},
        )


def forget_worker(*, worker_id: str) -> None:
    """The worker stops: it is no longer on."""
    Worker.objects.filter(worker_id=worker_id).delete()


def last_worker_heartbeat() -> datetime | None:
    """When a worker was last seen alive (None: never)."""
    return Worker.objects.last_heartbeat()


def last_worker_heartbeats() -> tuple[datetime | None, dict[str, datetime | None]]:
    """When a worker was last seen alive, and a worker serving each of the
    task backend's queues (None: never), from one reading."""
    queue_names = settings.TASKS[DEFAULT_TASK_BACKEND_ALIAS].get("QUEUES") or [DEFAULT_TASK_QUEUE_NAME]
    return Worker.objects.last_heartbeats(queue_names=queue_names)
