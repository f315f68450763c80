"""Getting Alexa's certificate chain, without letting anyone tie up the server with it.

``fetch_chain`` GETs a chain from Amazon (timeout, size cap, no redirects); ``ChainDirectory``
reads pre-fetched chains for hosts that cannot reach Amazon. ``BoundedLoader`` runs such a load
for the verifier under limits, because the chain URL comes from the request, before anything
proves the request is Alexa's:

- one load in flight per URL (requests for the same URL wait for it), at most
  ``max_in_flight`` URLs at once; beyond that a request is refused at once ("busy");
- a request waits at most ``wait_s`` for its chain, then is refused; the load goes on in its
  own thread and its result is kept for the next request;
- a failed load is remembered for ``failure_ttl_s`` (a negative cache): the same junk URL
  again is refused without a fetch;
- at most ``max_waiting`` requests wait at all, so junk cannot hold every worker thread;
- a URL that loaded before (Alexa's, when its chain expires and is fetched again) is exempt from
  both limits, so junk cannot keep the genuine chain from being renewed.
"""

from __future__ import annotations

import logging
import posixpath
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Generic, TypeVar
from urllib.parse import urlsplit

from skill.errors import CertificateError

log = logging.getLogger(__name__)

MAX_CHAIN_BYTES = 64 * 1024  # Amazon's chain is about 5 KB
FETCH_TIMEOUT_S = (2.0, 3.0)  # connect, read: a cold request still answers within Alexa's 8 s
CHAIN_WAIT_S = 3.0  # the longest a request waits for a chain that is not at hand
MAX_FETCHES_IN_FLIGHT = 2
MAX_WAITING = 8  # requests waiting for a chain at once (the first requests after a start)
FAILURE_TTL_S = 30.0
MAX_REMEMBERED_FAILURES = 1024
MAX_KNOWN_GOOD = 16

T = TypeVar("T")


def fetch_chain(url: str, *, timeout: tuple[float, float] = FETCH_TIMEOUT_S,
                max_bytes: int = MAX_CHAIN_BYTES) -> bytes:
    """GET the chain with a timeout, no redirects and a size cap."""
    import requests

    deadline = time.monotonic() + sum(timeout)
    try:
        with requests.get(url, timeout=timeout, stream=True, allow_redirects=False) as reply:
            if reply.status_code != 200:
                raise CertificateError(f"certificate chain fetch got HTTP {reply.status_code}")
            data = bytearray()
            for chunk in reply.iter_content(8192):
                data += chunk
                if len(data) > max_bytes:
                    raise CertificateError("certificate chain is too large")
                if time.monotonic() > deadline:
                    raise CertificateError("certificate chain fetch timed out")
            return bytes(data)
    except requests.RequestException as e:
        raise CertificateError(f"certificate chain fetch failed ({type(e).__name__})") from None


class ChainDirectory:
    """Pre-fetched chains for hosts that cannot reach Amazon: a URL's chain is the file named as
    the last part of its path (``echo-api-cert-12.pem``). Nothing is fetched."""

    def __init__(self, directory: str | Path, max_bytes: int = MAX_CHAIN_BYTES) -> None:
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        if not self.directory.is_dir():
            raise ValueError(f"certificate chain directory {self.directory} does not exist")

    def __call__(self, url: str) -> bytes:
        path = self.directory / posixpath.basename(urlsplit(url).path)
        try:
            with path.open("rb") as f:
                data = f.read(self.max_bytes + 1)
        except OSError:
            raise CertificateError("certificate chain is not available offline") from None
        if len(data) > self.max_bytes:
            raise CertificateError("certificate chain is too large")
        return data


class BoundedLoader(Generic[T]):
    """``loader(url)``: ``load(url)`` under the limits above; raises ``CertificateError``."""

    def __init__(self, load: Callable[[str], T], *, max_in_flight: int = MAX_FETCHES_IN_FLIGHT,
                 max_waiting: int = MAX_WAITING, wait_s: float = CHAIN_WAIT_S,
                 failure_ttl_s: float = FAILURE_TTL_S,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._load = load
        self._max_in_flight = max_in_flight
        self._max_waiting = max_waiting
        self._wait_s = wait_s
        self._failure_ttl_s = failure_ttl_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._jobs: dict[str, Future[T]] = {}  # URL -> its load in flight
        self._failures: OrderedDict[str, tuple[float, str]] = OrderedDict()  # URL -> until, why
        self._known_good: OrderedDict[str, None] = OrderedDict()  # URLs that loaded before
        self._waiting = 0

    def __call__(self, url: str) -> T:
        start = False
        with self._lock:
            failed = self._failures.get(url)
            if failed is not None:
                if self._monotonic() < failed[0]:
                    raise CertificateError(failed[1])
                del self._failures[url]
            known = url in self._known_good
            if self._waiting >= self._max_waiting and not known:
                raise CertificateError("certificate chain fetches are busy")
            job = self._jobs.get(url)
            if job is None:
                if len(self._jobs) >= self._max_in_flight and not known:
                    raise CertificateError("certificate chain fetches are busy")
                job = self._jobs[url] = Future()
                start = True
            self._waiting += 1
        if start:
            threading.Thread(target=self._run, args=(url, job), name="chain-load",
                             daemon=True).start()
        try:
            return job.result(timeout=self._wait_s)
        except TimeoutError:
            raise CertificateError("certificate chain fetch took too long") from None
        except CertificateError as e:  # a fresh exception per waiting request
            raise CertificateError(str(e)) from None
        finally:
            with self._lock:
                self._waiting -= 1

    def _run(self, url: str, job: Future[T]) -> None:
        try:
            result = self._load(url)
        except CertificateError as e:
            self._fail(url, job, str(e))
        except Exception:  # a bug or an odd library error: logged, and still a clean refusal
            log.exception("loading the certificate chain failed")
            self._fail(url, job, "certificate chain could not be loaded")
        else:
            with self._lock:
                del self._jobs[url]
                self._known_good[url] = None
                self._known_good.move_to_end(url)
                while len(self._known_good) > MAX_KNOWN_GOOD:
                    self._known_good.popitem(last=False)
            job.set_result(result)

    def _fail(self, url: str, job: Future[T], reason: str) -> None:
        with self._lock:
            del self._jobs[url]
            self._failures[url] = (self._monotonic() + self._failure_ttl_s, reason)
            while len(self._failures) > MAX_REMEMBERED_FAILURES:
                self._failures.popitem(last=False)  # the oldest
        job.set_exception(CertificateError(reason))
