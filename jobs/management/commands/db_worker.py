"""django-tasks-db's `db_worker`, with a heartbeat: its worker writes
nothing while it waits for work, so nothing could tell a quiet queue from a
worker that is not running. This one records itself (jobs.workers) and
the queues it serves as it polls, and leaves when it stops. Everything
else is the library's: the same options, loop, signals and reloader. It
takes the place of the library's command because this app comes first in
INSTALLED_APPS."""

import os
import time

from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from jobs.models import Worker
from jobs.workers import forget_worker, record_heartbeat

logger = db_worker.logger


class HeartbeatWorker(db_worker.Worker):
    """The library's loop reads `running` once a round, before each poll
    and after each task: the heartbeat rides on that read, written at most
    every Worker.HEARTBEAT_EVERY seconds. A loop that hangs stops beating, which
    is what a heartbeat is for (a thread beside it would go on beating)."""

    def __init__(self, **kwargs):
        self._started_at = timezone.now()
        self._beaten = 0.0
        self._stopping = False
        super().__init__(**kwargs)

    @property
    def running(self) -> bool:
        if self._running and not self._stopping:
            self.beat()
        return self._running

    @running.setter
    def running(self, value: bool) -> None:
        self._running = value

    def beat(self) -> None:
        now = time.monotonic()
        if now - self._beaten < Worker.HEARTBEAT_EVERY:
            return
        self._beaten = now
        try:
            record_heartbeat(
                worker_id=self.worker_id,
                started_at=self._started_at,
                queue_names=self.queue_names,
                excluded_queue_names=self.excluded_queue_names,
            )
        except Exception:  # the database is down: the loop's own query will say so
            logger.exception("Could not record the heartbeat of worker_id=%s", self.worker_id)

    def shutdown(self, signum, frame) -> None:
        # From a signal handler: no query here, the loop may be in one.
        self._stopping = True
        super().shutdown(signum, frame)

    def run(self) -> None:
        try:
            super().run()
        finally:
            forget_worker(worker_id=self.worker_id)


class Command(db_worker.Command):
    help = "Run a database background worker that records a heartbeat while it runs"

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options,
    ) -> None:
        # The library's handle(), with HeartbeatWorker for its Worker.
        self.configure_logging(verbosity)
        if reload and batch:
            logger.warning("Warning: --reload and --batch cannot be specified together. Disabling autoreload.")
            reload = False
        queue_names = queue_name.split(",")
        excluded_queue_names = exclude_queues.split(",") if exclude_queues else []
        if excluded_queue_names and "*" not in queue_names:
            raise db_worker.CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = HeartbeatWorker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded_queue_names,
        )
        if reload:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
