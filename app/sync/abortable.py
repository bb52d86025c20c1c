"""A requests Session whose requests in flight another thread can cut off (``abort()``).

Why: closing the station during an upload stalled on a dead network left the sync thread
(and the process) waiting for the read timeout. ``Session.close()`` does not help: it closes
only the idle pooled connections, not the one a request is using. So every connection this
session opens is remembered, and ``abort()`` shuts their sockets down: a blocked send or
receive returns at once and the request fails with a ``requests.ConnectionError``. Until
``resume()``, no new connection opens either (the connect raises ``RequestAborted``).

A connect already in progress (or a DNS lookup) is not interrupted: it ends within the
connect timeout, then finds the session aborted.
"""

from __future__ import annotations

import socket
import threading
import weakref
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3 import poolmanager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import PoolManager


class RequestAborted(ConnectionAbortedError):
    """The session was aborted: no new connection opens until ``resume()``."""


class _Tracker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conns: weakref.WeakSet[Any] = weakref.WeakSet()
        self.aborted = False

    def connected(self, conn: Any) -> None:
        """Remember a connection just opened; shut it at once if an abort came meanwhile."""
        with self._lock:
            self._conns.add(conn)
            aborted = self.aborted
        if aborted:
            _shutdown(conn)
            raise RequestAborted("the session was aborted")

    def check(self) -> None:
        if self.aborted:
            raise RequestAborted("the session was aborted")

    def abort(self) -> int:
        with self._lock:
            self.aborted = True
            conns = list(self._conns)
        return sum(_shutdown(c) for c in conns)

    def resume(self) -> None:
        with self._lock:
            self.aborted = False


def _shutdown(conn: Any) -> bool:
    sock = getattr(conn, "sock", None)
    # TLS through an HTTPS proxy: urllib3 wraps the proxy's TLS socket in an SSLTransport,
    # which is no socket; its ``socket`` attribute is the one underneath.
    for _ in range(3):
        if sock is None or isinstance(sock, socket.socket):
            break
        sock = getattr(sock, "socket", None)
    if not isinstance(sock, socket.socket):
        return False
    try:
        # The plain socket's shutdown, also for a TLS socket (whose own shutdown() would
        # drop its SSL object under the thread that is reading from it).
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, ValueError):  # already closed or never connected
        return False
    return True


def _tracked(base: type[Any], tracker: _Tracker) -> type[Any]:
    def connect(self: Any) -> None:
        tracker.check()
        base.connect(self)
        tracker.connected(self)

    return type(f"Abortable{base.__name__}", (base,), {"connect": connect})


class _Adapter(HTTPAdapter):
    def __init__(self, tracker: _Tracker) -> None:
        self._tracker = tracker
        http_conn = _tracked(HTTPConnection, tracker)
        https_conn = _tracked(HTTPSConnection, tracker)
        self._pools = {
            "http": type("AbortableHTTPPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type(
                "AbortableHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}
            ),
        }
        super().__init__()

    def _use_tracked_pools(self, manager: PoolManager) -> PoolManager:
        # Only urllib3's own pools are replaced (a SOCKS proxy's manager brings its own).
        if manager.pool_classes_by_scheme is poolmanager.pool_classes_by_scheme:
            manager.pool_classes_by_scheme = dict(self._pools)
        return manager

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self._use_tracked_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> PoolManager:
        # An HTTP(S) proxy's manager opens its connections through the same pool classes.
        return self._use_tracked_pools(super().proxy_manager_for(proxy, **proxy_kwargs))


class AbortableSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        self._tracker = _Tracker()
        adapter = _Adapter(self._tracker)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    @property
    def aborted(self) -> bool:
        return self._tracker.aborted

    def abort(self) -> int:
        """Cut off every request in flight (from any thread) and refuse new connections
        until ``resume()``; returns how many open connections were shut down."""
        return self._tracker.abort()

    def resume(self) -> None:
        """Allow new connections again (a stopped worker started again)."""
        self._tracker.resume()
