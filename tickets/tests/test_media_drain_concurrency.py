"""Several media workers, on one machine or several, drain the files never
tried yet at the same moment: each file is fetched once, by one of them
(a row lock the others skip). On PostgreSQL, where the locks are real."""

import threading

from contacts_portal.tests.concurrency import POSTGRES_LOCKS, run_threads
from tickets.media import media_drain
from tickets.models import Message, MessageMedia

from . import media_files
from .test_media_receive import BASE64_PATH, base64_answer

pytestmark = POSTGRES_LOCKS

DRAINS = 4
FILES = 16


def test_four_drains_at_once_fetch_each_file_once(whatsapp, evolution):
    evolution.expect_request(BASE64_PATH, method="POST").respond_with_json(base64_answer(media_files.voice_note()))
    for n in range(FILES):
        message = Message.objects.create(channel=whatsapp, external_id=f"x{n}", chat_id="5511987654321@s.whatsapp.net", sent_at="2026-11-25T10:00:00Z")
        MessageMedia.objects.create(message=message, kind="voice", source={"key": {"id": f"x{n}"}})
    barrier, tried = threading.Barrier(DRAINS, timeout=30), []

    def drain():
        barrier.wait()
        tried.append(media_drain())

    assert run_threads(*[drain] * DRAINS) == []
    assert sum(tried) == FILES
    assert len(evolution.log) == FILES
    assert set(MessageMedia.objects.values_list("status", "attempts")) == {("stored", 1)}
