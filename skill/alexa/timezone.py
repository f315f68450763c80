"""The user's day: the request's time in the device's time zone.

The zone comes from the Alexa Settings API (``GET {apiEndpoint}/v2/devices/{deviceId}/settings/
System.timeZone`` with the in-session ``apiAccessToken``), asked once per device and cached
(bounded; a failure is remembered for a while too). When the API fails or is slow (a short
timeout), the locale's UTC offset (``content/<locale>/locale.yaml``) stands in.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import quote

from skill.alexa import http_get

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 0.8  # the whole turn has 8 s; the day can come from the locale instead
CACHE_SIZE = 10_000  # devices remembered per process
ANSWER_LIMIT = 8 * 1024  # bytes: a zone name is a short JSON string
RETRY_FAILED_AFTER = 600.0  # seconds before a device whose zone could not be read is asked again

# (api_endpoint, device_id, token) -> an IANA zone name, or None
Fetch = Callable[[str, str, str], str | None]


def fetch_time_zone(api_endpoint: str, device_id: str, token: str) -> str | None:
    """The device's zone name from the Alexa Settings API, or None."""
    if not api_endpoint.startswith("https://") and not _is_local(api_endpoint):
        return None
    url = (api_endpoint.rstrip("/") + "/v2/devices/" + quote(device_id, safe="")
           + "/settings/System.timeZone")
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        name = json.loads(http_get.get(url, headers, TIMEOUT_SECONDS, limit=ANSWER_LIMIT))
    except (OSError, ValueError) as e:  # TimeoutError and HttpError are OSErrors
        log.info("time zone: %s; the locale's offset is used", type(e).__name__)
        return None
    return name if isinstance(name, str) else None


class TimeZones:
    """Each device's time zone, cached; ``zone`` falls back to the given fixed offset."""

    def __init__(self, fetch: Fetch = fetch_time_zone, size: int = CACHE_SIZE) -> None:
        self.fetch = fetch
        self.size = size
        self._cache: OrderedDict[str, tuple[dt.tzinfo | None, float]] = OrderedDict()
        self._asking: dict[str, threading.Event] = {}  # devices asked for in the background
        self._lock = threading.Lock()

    def zone(self, device_id: str | None, api_endpoint: str | None, token: str | None,
             fallback: dt.tzinfo) -> dt.tzinfo:
        if not _askable(device_id, api_endpoint, token):
            return fallback
        with self._lock:
            cached = self._cached(device_id)
            asking = self._asking.get(device_id)
        if cached is not None:
            return cached[0] or fallback
        if asking is not None:  # asked already (prefetch): wait for that answer, not a second
            asking.wait(TIMEOUT_SECONDS + 0.5)
            with self._lock:
                cached = self._cached(device_id)
            if cached is None:  # no answer in time: the locale's day, as on a slow API
                return fallback
            return cached[0] or fallback
        zone = self._ask(api_endpoint, device_id, token)
        return zone or fallback

    def prefetch(self, device_id: str | None, api_endpoint: str | None,
                 token: str | None) -> None:
        """Ask for the device's zone in the background (on a cold start, while the skill is
        built: the round trip to the API no longer follows the build); ``zone`` waits for it."""
        if not _askable(device_id, api_endpoint, token):
            return
        with self._lock:
            if self._cached(device_id) is not None or device_id in self._asking:
                return
            done = self._asking[device_id] = threading.Event()

        def ask() -> None:
            try:
                self._ask(api_endpoint, device_id, token)
            finally:
                with self._lock:
                    self._asking.pop(device_id, None)
                done.set()

        threading.Thread(target=ask, name="time-zone", daemon=True).start()

    def _cached(self, device_id: str) -> tuple[dt.tzinfo | None, float] | None:
        """The cache entry still good for ``device_id`` (call with the lock held)."""
        cached = self._cache.get(device_id)
        if cached is None or (cached[0] is None and time.monotonic() >= cached[1]):
            return None
        self._cache.move_to_end(device_id)
        return cached

    def _ask(self, api_endpoint: str, device_id: str, token: str) -> dt.tzinfo | None:
        zone = _zone_named(self.fetch(api_endpoint, device_id, token))
        with self._lock:
            self._cache[device_id] = (zone, time.monotonic() + RETRY_FAILED_AFTER)
            self._cache.move_to_end(device_id)
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return zone


def _askable(device_id: str | None, api_endpoint: str | None, token: str | None) -> bool:
    return bool(device_id and api_endpoint and token and len(device_id) <= 256)


def _zone_named(name: str | None) -> dt.tzinfo | None:
    if not name or len(name) > 64:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.info("time zone %r unknown here; the locale's offset is used", name[:64])
        return None


def _is_local(url: str) -> bool:
    """Loopback over http: the tests' stand-in for the Alexa API."""
    return url.startswith(("http://127.0.0.1:", "http://localhost:", "http://[::1]:"))
