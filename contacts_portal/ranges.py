"""Files served in parts (HTTP Range, RFC 9110 §14): what <audio> and
<video> ask for to learn a file's length and to seek. Without it Chrome
reports an Ogg voice note's duration as Infinity and cannot jump within a
video. One range per request; a request for several ranges gets the
whole file, as the RFC allows."""

import re

from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
CHUNK = 64 * 1024


def byte_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(first, last) byte of a single-range header; None when there is no
    usable range (serve the whole file); False when it lies beyond the
    file (416)."""
    match = _RANGE.fullmatch(header.strip()) if header else None
    if match is None or (not match[1] and not match[2]):
        return None
    if not match[1]:  # the last N bytes
        length = int(match[2])
        if length == 0:
            return False
        return max(size - length, 0), size - 1
    first = int(match[1])
    last = min(int(match[2]), size - 1) if match[2] else size - 1
    if match[2] and int(match[2]) < first:
        return None  # not a valid range: ignored
    if first >= size:
        return False
    return first, last


def _part(file, length: int):
    with file:
        while length > 0:
            chunk = file.read(min(CHUNK, length))
            if not chunk:
                return
            length -= len(chunk)
            yield chunk


def ranged_file_response(request, file, *, size: int, content_type: str, as_attachment: bool, filename: str) -> HttpResponse:
    """The file, or the part of it the request's Range asks for (206),
    or 416 for a range beyond it; always saying ranges are accepted."""
    wanted = byte_range(request.headers.get("Range", ""), size) if request.method == "GET" else None
    if wanted is None:
        response = FileResponse(file, content_type=content_type, as_attachment=as_attachment, filename=filename)
    elif wanted is False:
        file.close()
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
    else:
        first, last = wanted
        file.seek(first)
        response = StreamingHttpResponse(_part(file, last - first + 1), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
        response["Content-Length"] = str(last - first + 1)
        response["Content-Disposition"] = content_disposition_header(as_attachment, filename)
    response["Accept-Ranges"] = "bytes"
    return response
