"""Run aiohttp apps on loopback in a thread with its own event loop.

The fake servers must keep answering while the code under test blocks: the synchronous kubernetes
client blocks its thread, and a buggy bot may block its own loop. A dedicated loop in a dedicated
thread means neither can starve the fake.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from types import TracebackType

from aiohttp import web

_START_TIMEOUT = 10.0


class BackgroundServer:
    def __init__(self, app: web.Application, port: int = 0, host: str = "127.0.0.1") -> None:
        self.app = app
        self.host = host
        self.port = port
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    def start(self) -> str:
        """Bind, serve, and return the base URL (`http://127.0.0.1:PORT`) once connections are accepted."""
        if self._thread is not None:
            return self.url
        # Binding here, in the caller's thread, makes a busy port fail in start() and gives port 0 a number.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = int(sock.getsockname()[1])
        self.url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._run, args=(sock,), name=f"fake-server-{self.port}",
                                        daemon=True)
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT):
            raise RuntimeError(f"server on {self.url} did not start within {_START_TIMEOUT}s")
        if self._failure is not None:
            raise RuntimeError(f"server on {self.url} failed to start") from self._failure
        return self.url

    def _run(self, sock: socket.socket) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve(sock))
        except BaseException as exc:  # reported to start(); the thread must not die silently
            self._failure = exc
            sock.close()
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _serve(self, sock: socket.socket) -> None:
        runner = web.AppRunner(self.app, handle_signals=False, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        self._runner = runner
        await web.SockSite(runner, sock).start()

    def stop(self) -> None:
        """Close the listener and connections, stop the loop and join the thread. Idempotent."""
        thread, loop, runner = self._thread, self._loop, self._runner
        if thread is None or loop is None:
            return
        if runner is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = self._loop = self._runner = None
        self._ready.clear()

    def __enter__(self) -> BackgroundServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()
