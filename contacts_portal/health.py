"""/healthz, for a load balancer or an orchestrator: 200 when this process
can serve (the database answers and every migration is applied), 503
otherwise. The body says which part failed and how long ago a task worker
was last seen, of any queue and of each, and nothing else: no error text,
host, version or count.

It is a middleware at the top of the stack, not a view: a probe comes by
the machine's own address over plain HTTP, so ALLOWED_HOSTS, the HTTPS
redirect, sessions and log-in must not get a say before it is answered.

This module looks at the whole site (the database, its migrations, the
jobs' workers) and so, like the settings and URLs, sits above every app."""

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpResponseNotAllowed, JsonResponse
from django.utils import timezone

from jobs.workers import last_worker_heartbeats

PATH = "/healthz"


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        # Once every migration is applied, it stays so for this process's
        # life (new migrations come with new code, hence a new process):
        # reading the migration files again costs tens of milliseconds.
        self.migrated = False

    def __call__(self, request):
        if request.path_info != PATH:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        report = self.report()
        healthy = report["database"] == "ok" and report["migrations"] == "applied"
        response = JsonResponse({"status": "ok" if healthy else "unavailable", **report}, status=200 if healthy else 503)
        response["Cache-Control"] = "no-store"
        return response

    def report(self) -> dict:
        report = {"database": "ok", "migrations": "unknown", "worker_heartbeat_age_seconds": None, "worker_heartbeat_age_seconds_by_queue": None}
        try:
            connection.ensure_connection()
            self.migrated = self.migrated or self.migrations_applied()
            report["migrations"] = "applied" if self.migrated else "pending"
            if self.migrated:
                # Only now: the workers' table may be one of the pending migrations.
                now = timezone.now()
                last, by_queue = last_worker_heartbeats()
                report["worker_heartbeat_age_seconds"] = age_seconds(last, now)
                report["worker_heartbeat_age_seconds_by_queue"] = {queue_name: age_seconds(beat, now) for queue_name, beat in by_queue.items()}
        except DatabaseError:
            report["database"] = "unreachable"
        return report

    @staticmethod
    def migrations_applied() -> bool:
        executor = MigrationExecutor(connection)
        return not executor.migration_plan(executor.loader.graph.leaf_nodes())


def age_seconds(moment, now) -> int | None:
    return None if moment is None else round((now - moment).total_seconds())
