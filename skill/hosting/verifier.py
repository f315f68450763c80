"""Proof that a request comes from Alexa, by Amazon's rules for a skill hosted as a web service.

``AlexaVerifier()`` is the web app's ``VERIFIER``: ``verifier(headers, raw_body)`` returns when the
request is Alexa's and raises a ``VerificationError`` (a ``BadRequest``: HTTP 400) with a short
reason when it is not:

1. ``SignatureCertChainUrl`` is Amazon's: https, host s3.amazonaws.com, port 443 if given, a
   normalised path under ``/echo.api/``. Anything else is refused before any fetch.
2. The chain at that URL is fetched once (timeout, size cap), validated (valid now, leaf SAN
   ``echo-api.amazon.com``, chains to a trusted root) and cached per URL until the first of its
   certificates expires. Warm requests only do steps 3 and 4.
3. ``Signature-256`` is the leaf key's RSA PKCS#1 v1.5 / SHA-256 signature of the raw body.
4. ``request.timestamp`` is within 150 s of the (injectable) clock.

The applicationId is checked in one place for every entry point: ``SkillRuntime.handle``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import posixpath
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.verification import DNSName, PolicyBuilder, Store
from cryptography.x509.verification import VerificationError as ChainInvalid

from skill.alexa.runtime import BadRequest

log = logging.getLogger(__name__)

CHAIN_URL_HEADER = "SignatureCertChainUrl"
SIGNATURE_HEADER = "Signature-256"
CHAIN_HOST = "s3.amazonaws.com"
CHAIN_PATH_PREFIX = "/echo.api/"
ALEXA_SAN = "echo-api.amazon.com"
TIMESTAMP_TOLERANCE_S = 150
MAX_CHAIN_BYTES = 64 * 1024  # Amazon's chain is about 5 KB
FETCH_TIMEOUT_S = (2.0, 3.0)  # connect, read: a cold request still answers within Alexa's 8 s
MAX_CACHED_CHAINS = 16

Clock = Callable[[], dt.datetime]
Fetch = Callable[[str], bytes]  # normalised chain URL -> PEM bytes


class VerificationError(BadRequest):
    """The request cannot be shown to come from Alexa."""


class CertificateUrlError(VerificationError):
    """``SignatureCertChainUrl`` is missing or not where Amazon keeps Alexa's certificate."""


class CertificateError(VerificationError):
    """The certificate chain could not be fetched, or is not Alexa's valid signing chain."""


class SignatureError(VerificationError):
    """``Signature-256`` is missing, malformed, or not a signature of this body."""


class TimestampError(VerificationError):
    """The request's timestamp is missing or too far from now (a replay or a wrong clock)."""


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# -- the certificate URL ----------------------------------------------------------------------


def check_chain_url(url: str) -> str:
    """The URL to fetch (normalised) if ``url`` is where Amazon serves Alexa's chain."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise CertificateUrlError("certificate URL is not a URL") from None
    if parts.scheme.lower() != "https":
        raise CertificateUrlError("certificate URL is not https")
    if parts.hostname != CHAIN_HOST or parts.username is not None or parts.password is not None:
        raise CertificateUrlError(f"certificate URL host is not {CHAIN_HOST}")
    if port not in (None, 443):
        raise CertificateUrlError("certificate URL port is not 443")
    # Percent-escapes are refused: decoded after the check, they could leave /echo.api/.
    path = posixpath.normpath(parts.path) if parts.path and "%" not in parts.path else ""
    if not path.startswith(CHAIN_PATH_PREFIX):
        raise CertificateUrlError(f"certificate URL path is not under {CHAIN_PATH_PREFIX}")
    return f"https://{CHAIN_HOST}{path}"


# -- getting the chain --------------------------------------------------------------------------


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


# -- trusted roots ------------------------------------------------------------------------------

_PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


def load_roots(pem: bytes) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle that parses; one odd entry does not spoil the bundle."""
    roots = []
    for block in _PEM_CERT.findall(pem):
        try:
            with warnings.catch_warnings():  # e.g. a negative serial number in an old root
                warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                roots.append(x509.load_pem_x509_certificate(block))
        except ValueError:
            log.debug("skipped a trusted root that does not parse")
    if not roots:
        raise ValueError("no certificates in the trusted roots")
    return roots


def certifi_roots() -> list[x509.Certificate]:
    import certifi

    return load_roots(Path(certifi.where()).read_bytes())


# -- the verifier -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustedChain:
    key: RSAPublicKey  # the leaf's key, which signs requests
    expires: dt.datetime  # the first not-after in the validated chain


class AlexaVerifier:
    """``verifier(headers, raw_body)``: returns for Alexa's requests, raises otherwise."""

    def __init__(self, *, trusted_roots: Iterable[x509.Certificate] | None = None,
                 fetch: Fetch | None = None, clock: Clock = utc_now,
                 tolerance_s: float = TIMESTAMP_TOLERANCE_S) -> None:
        self._store = Store(list(trusted_roots) if trusted_roots is not None
                            else certifi_roots())
        self._fetch = fetch or fetch_chain
        self._clock = clock
        self._tolerance_s = tolerance_s
        self._chains: dict[str, TrustedChain] = {}  # raw header value -> validated chain
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}  # one fetch per URL at a time

    def __call__(self, headers: Mapping[str, str], body: bytes) -> None:
        url = _header(headers, CHAIN_URL_HEADER)
        encoded = _header(headers, SIGNATURE_HEADER)
        if not url:
            raise CertificateUrlError(f"{CHAIN_URL_HEADER} header is missing")
        if not encoded:
            raise SignatureError(f"{SIGNATURE_HEADER} header is missing")
        now = self._clock()
        chain = self._chains.get(url)
        if chain is None or now >= chain.expires:
            chain = self._load(url, now)
        try:
            signature = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise SignatureError(f"{SIGNATURE_HEADER} is not base64") from None
        try:
            chain.key.verify(signature, body, PKCS1v15(), SHA256())
        except InvalidSignature:
            raise SignatureError("signature does not match the body") from None
        check_timestamp(body, now, self._tolerance_s)

    # -- cold path ------------------------------------------------------------------------------

    def _load(self, url: str, now: dt.datetime) -> TrustedChain:
        fetch_url = check_chain_url(url)
        with self._lock:
            loading = self._loading.setdefault(url, threading.Lock())
        try:
            with loading:
                chain = self._chains.get(url)
                if chain is None or now >= chain.expires:
                    chain = self.validate(self._fetch(fetch_url), now)
                    with self._lock:
                        self._remember(url, chain, now)
                    log.info("certificate chain %s trusted until %s", fetch_url,
                             chain.expires.isoformat())
        finally:
            with self._lock:
                self._loading.pop(url, None)
        return chain

    def _remember(self, url: str, chain: TrustedChain, now: dt.datetime) -> None:
        for old in [u for u, c in self._chains.items() if now >= c.expires]:
            del self._chains[old]
        while len(self._chains) >= MAX_CACHED_CHAINS:
            del self._chains[next(iter(self._chains))]  # the oldest entry
        self._chains[url] = chain

    def validate(self, pem: bytes, now: dt.datetime) -> TrustedChain:
        """The signing key of a PEM chain (leaf first) if it is Alexa's and valid at ``now``."""
        try:
            leaf, *intermediates = x509.load_pem_x509_certificates(pem)
            named = _names_alexa(leaf)
        except ValueError:
            raise CertificateError("certificate chain is not PEM certificates") from None
        if now >= leaf.not_valid_after_utc:
            raise CertificateError("certificate has expired")
        if now < leaf.not_valid_before_utc:
            raise CertificateError("certificate is not valid yet")
        if not named:
            raise CertificateError(f"certificate is not for {ALEXA_SAN}")
        policy = PolicyBuilder().store(self._store).time(now)
        try:
            chain = policy.build_server_verifier(DNSName(ALEXA_SAN)).verify(leaf, intermediates)
        except ChainInvalid:
            raise CertificateError("certificate does not chain to a trusted root") from None
        key = leaf.public_key()
        if not isinstance(key, RSAPublicKey):
            raise CertificateError("certificate key is not RSA")
        return TrustedChain(key, min(c.not_valid_after_utc for c in chain))


def check_timestamp(body: bytes, now: dt.datetime,
                    tolerance_s: float = TIMESTAMP_TOLERANCE_S) -> None:
    """``request.timestamp`` of the body within ``tolerance_s`` of ``now``, either way."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):
        raise VerificationError("body is not valid JSON") from None
    request = event.get("request") if isinstance(event, dict) else None
    stamp = request.get("timestamp") if isinstance(request, dict) else None
    if not isinstance(stamp, str) or len(stamp) > 40:
        raise TimestampError("request timestamp is missing")
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        raise TimestampError("request timestamp is not ISO 8601") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    try:
        off_by_s = abs((now - when).total_seconds())
    except OverflowError:
        off_by_s = float("inf")
    if off_by_s > tolerance_s:
        raise TimestampError(f"request timestamp is more than {tolerance_s:g} s from now")


def _names_alexa(cert: x509.Certificate) -> bool:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return any(name.lower() == ALEXA_SAN for name in san.get_values_for_type(x509.DNSName))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)  # Flask's headers ignore case; a plain dict may not
    if value is None and isinstance(headers, dict):
        value = next((v for k, v in headers.items() if k.lower() == name.lower()), None)
    return value.strip() if isinstance(value, str) else None
