"""A cap on how much a request may send, enforced before its body is read.

MAX_UPLOAD_SIZE caps a multipart body (a form with files); other bodies are
capped by DATA_UPLOAD_MAX_MEMORY_SIZE. A view that needs more (the spreadsheet
import) says so with @max_upload_size. An oversized request gets status 413
and a message saying what the limit is; nothing of it is read or saved.
"""

import json
from collections.abc import Callable

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _


def max_upload_size(size: "int | Callable[[], int]"):
    """Let one view accept multipart bodies up to `size` bytes instead of
    MAX_UPLOAD_SIZE; a function is asked at each request (a limit that
    follows settings). For a class-based view, wrap its as_view() in urls.py."""

    def decorator(view):
        view.max_upload_size = size
        return view

    return decorator


def checks_its_own_body(view):
    """For a view that caps and refuses its body itself, with its own answer
    (the gateways' webhook: 400 to an oversized event, as providers
    expect), reading no more than Content-Length allows."""
    view.checks_its_own_body = True
    return view


class UploadLimitHandler(FileUploadHandler):
    """Counts the file bytes as they arrive and stops the upload past the
    limit, whatever Content-Length claimed: an understated length must not
    get a bigger upload through."""

    def __init__(self, request, limit: int):
        super().__init__(request)
        self.limit = limit
        self.received = 0
        self.exceeded = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.exceeded = True
            raise StopUpload
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler builds the file


class UploadSizeLimitMiddleware:
    """Refuses a request bigger than its view accepts, before anything reads
    the body. It goes before CsrfViewMiddleware, which reads the form."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "checks_its_own_body", False):
            return None
        multipart = request.content_type == "multipart/form-data"
        if multipart:
            limit = getattr(view_func, "max_upload_size", settings.MAX_UPLOAD_SIZE)
            if callable(limit):
                limit = limit()
        else:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is None:
            return None
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            return too_large_response(request, limit)
        if multipart:
            handler = UploadLimitHandler(request, limit)
            request.upload_handlers.insert(0, handler)
            # Parse now, so that a view never acts on a cut-off upload.
            request.FILES  # noqa: B018
            if handler.exceeded:
                return too_large_response(request, limit)
        return None


def readable_size(size: int) -> str:
    """10485760 → "10 MB", 1.5 MB → "1,5 MB" in pt-BR, 65536 → "64 KB"."""
    if size >= 1024 * 1024:
        return f"{floatformat(size / (1024 * 1024), -1)} MB"
    return f"{floatformat(size / 1024, -1)} KB"


def too_large_response(request, limit: int) -> HttpResponse:
    message = _(
        "What you sent is too large (the limit is %(size)s), and nothing was saved. "
        "Send a smaller file."
    ) % {"size": readable_size(limit)}
    if request.headers.get("HX-Request") == "true":
        # htmx does not swap an error response: the page shows the message
        # as a toast (static/js/app.js, "show-message").
        response = HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
        response["HX-Trigger"] = json.dumps({"show-message": {"message": message}})
        return response
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, require_https=request.is_secure()):
        back = reverse("contacts:list")
    return render(request, "upload_too_large.html", {"message": message, "back_url": back}, status=413)
