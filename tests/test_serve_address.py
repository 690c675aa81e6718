"""``madoguchi serve`` on an address another program holds: one clear line, exit 2, nothing
started (regression: a waitress traceback after the worker had been started)."""

from __future__ import annotations

import socket

import pytest

from forms.errors import AddressUnavailable
from web.cli import main
from web.serve import check_address_free


def test_a_port_in_use_is_a_clear_error_before_anything_starts(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        assert main(["serve", "--host", "127.0.0.1", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"madoguchi: 127.0.0.1:{port} は使用中です") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_free_port_passes() -> None:
    with socket.socket() as finder:
        finder.bind(("127.0.0.1", 0))
        port = finder.getsockname()[1]
    check_address_free("127.0.0.1", port)


def test_a_host_that_does_not_resolve_is_a_clear_error() -> None:
    with pytest.raises(AddressUnavailable, match="no-such-host.invalid を解決できません"):
        check_address_free("no-such-host.invalid", 8000)
