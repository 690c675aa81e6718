"""Celery's filesystem broker with messages that appear only once written whole.

Kombu's filesystem transport opens the message file under its final name and then writes it;
a worker listing the queue folder in between moves the empty file away and fails on it
(``JSONDecodeError`` in ``Channel._get``, which stops the worker). Here a message is written
under a name the queue reader skips and renamed into place, which is atomic on one filesystem.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps

#: The transport Celery is given for ``filesystem://`` broker URLs (see web.tasks.configure).
TRANSPORT = "web.broker:AtomicFilesystemTransport"

# The reader takes files named ``<stamp>_<uuid>.<queue>.msg``; a suffix after ``.msg`` hides one.
PARTIAL_SUFFIX = ".part"


class AtomicFilesystemChannel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL_SUFFIX
        try:
            with open(partial, "wb") as stream:
                stream.write(dumps(payload).encode("utf-8"))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class AtomicFilesystemTransport(filesystem.Transport):
    Channel = AtomicFilesystemChannel
