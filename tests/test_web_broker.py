"""The filesystem broker used when nothing else runs: a message is invisible to workers until it
is written whole (regression: a worker took a half-written message and stopped on
JSONDecodeError)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from kombu import Connection

from web import broker


@pytest.fixture
def channel(tmp_path: Path) -> Iterator[Any]:
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False}
    with Connection("filesystem://localhost//", transport=broker.TRANSPORT, transport_options=options) as conn:
        chan = conn.default_channel
        assert isinstance(chan, broker.AtomicFilesystemChannel)
        yield chan


def test_message_round_trip(channel: Any) -> None:
    channel._put("jobs", {"body": "本文", "n": 1})
    assert channel._get("jobs") == {"body": "本文", "n": 1}
    with pytest.raises(Empty):
        channel._get("jobs")


def test_message_being_written_is_not_taken(channel: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    seen_while_writing: list[object] = []
    real_dumps = broker.dumps

    def dumps_while_a_worker_polls(payload: Any) -> str:
        # The file is open at this point: a worker polling now must find nothing to take.
        try:
            seen_while_writing.append(channel._get("jobs"))
        except Empty:
            seen_while_writing.append(Empty)
        return real_dumps(payload)

    monkeypatch.setattr(broker, "dumps", dumps_while_a_worker_polls)
    channel._put("jobs", {"n": 2})
    assert seen_while_writing == [Empty]
    assert channel._get("jobs") == {"n": 2}
    assert not list(Path(channel.data_folder_in).iterdir())
