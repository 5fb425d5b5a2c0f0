"""`replay-server demo` in a real browser: the demo page records itself under
the server's CSP, and the demo login sees the visit in the API."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, async_playwright

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.procs import free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        instance = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            await instance.close()


def start_demo(data_dir: Path, log_path: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """Run `replay-server demo`; return the process, its URL and the printed password."""
    port = free_port()
    env = {**os.environ, "REPLAY_DATA_DIR": str(data_dir), "REPLAY_PORT": str(port)}
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "replay_server", "demo"], env=env, stdout=log, stderr=log
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, log_path.read_text()
        output = log_path.read_text(errors="replace")
        password = re.search(r"password:\s+(\S+)", output)
        if password and "Running on" in output:
            return proc, f"http://127.0.0.1:{port}", password.group(1)
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"demo did not start:\n{log_path.read_text()}")


async def test_demo_records_itself(tmp_path: Path, browser: Browser) -> None:
    proc, url, password = await asyncio.to_thread(
        start_demo, tmp_path / "data", tmp_path / "demo.log"
    )
    try:
        context = await browser.new_context()
        page = await context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        await page.goto(url + "/demo")
        await page.wait_for_function("window.ReplayRecorder && window.ReplayRecorder.sessionId()")
        await page.fill("#name", "Ada")
        await page.fill("#email", "ada@example.com")
        await page.fill("#password", "never stored")
        await page.click("#add-item")
        await page.click("#add-item")
        assert await page.locator("#cart li").count() == 2  # demo.js ran under the CSP
        await page.click("#signup button[type=submit]")
        assert await page.locator("#signup-result").is_visible()
        await page.mouse.wheel(0, 2000)
        await page.click("a[href='/demo/second']")
        await page.wait_for_function("window.ReplayRecorder && window.ReplayRecorder.sessionId()")
        await page.wait_for_timeout(1500)

        await page.goto(url + "/login")
        await page.fill("input[name=email]", "demo@example.com")
        await page.fill("input[name=password]", password)
        await page.click("button[type=submit]")
        await page.wait_for_url(url + "/")
        session = await wait_for_session(context.request, url)
        assert session["page_count"] == 2
        assert session["entry_url"] == url + "/demo"
        assert problems == []
        await context.close()
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)


async def wait_for_session(request: Any, url: str) -> dict[str, Any]:
    sites = await (await request.get(url + "/api/v1/sites")).json()
    (site,) = sites["sites"]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        response = await request.get(f"{url}/api/v1/sites/{site['id']}/sessions")
        sessions = (await response.json())["sessions"]
        if sessions and sessions[0]["page_count"] == 2:
            result: dict[str, Any] = sessions[0]
            return result
        await asyncio.sleep(0.25)
    raise AssertionError("the demo visit was not recorded")
