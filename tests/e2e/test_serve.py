"""The first README command's last step for real: `satupintu demo --serve` in a subprocess,
with its own SQLite database, answering HTTP and WebSockets on a free port."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import websockets
from websockets.sync.client import connect


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path):
    port = _free_port()
    environment = {k: v for k, v in os.environ.items()
                   if k not in {"DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    environment.update({"SATUPINTU_DATA_DIR": str(tmp_path), "SATUPINTU_TESTING": "0",
                        "SATUPINTU_LANGUAGE": "en"})
    process = subprocess.Popen(
        [sys.executable, "-m", "satupintu.cli", "demo", "--serve", "--port", str(port)],
        env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    deadline = time.monotonic() + 120
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if "running at" in line:
            break
    while time.monotonic() < deadline:  # the banner comes just before the socket is bound
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
            break
        except OSError:
            time.sleep(0.2)
    try:
        yield port, "".join(output)
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_demo_serve_prints_logins_and_answers_http_and_websockets(server):
    port, banner = server
    assert f"http://127.0.0.1:{port}/" in banner
    assert re.search(r"Supervisor\s+supervisor", banner)
    assert "satupintu-demo" in banner
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
        assert response.status == 200
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10) as r:
        page = r.read().decode()
    assert "SatuPintu" in page and 'name="username"' in page
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/satupintu/app.css",
                                timeout=10) as r:
        assert r.status == 200

    # The WebSocket route is live, and refuses a visitor who has not logged in.
    with pytest.raises(websockets.InvalidStatus) as refused, connect(
            f"ws://127.0.0.1:{port}/ws/notifications/", origin=f"http://127.0.0.1:{port}",
            open_timeout=10) as ws:
        ws.recv()
    assert refused.value.response.status_code == 403
