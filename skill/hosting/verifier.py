"""Proof that a request comes from Alexa, by Amazon's rules for a skill hosted as a web service.

``AlexaVerifier()`` is the web app's ``VERIFIER``: ``verifier(headers, raw_body)`` returns when the
request is Alexa's and raises a ``VerificationError`` (a ``BadRequest``: HTTP 400) with a short
reason when it is not. Everything that needs no network is checked first, so a request that is
plainly not Alexa's never causes a fetch:

1. ``Signature-256`` is present and base64; ``SignatureCertChainUrl`` is Amazon's: https, host
   s3.amazonaws.com, port 443 if given, a normalised path under ``/echo.api/``.
2. ``request.timestamp`` is within 150 s of the (injectable) clock and, when the verifier knows
   the skill id, the applicationId is this skill's.
3. The chain at the normalised URL is fetched (``chains.BoundedLoader``: bounded in number,
   waiting time and size, failures remembered briefly), validated (valid now, leaf SAN
   ``echo-api.amazon.com``, chains to a trusted root) and cached per normalised URL until the
   first of its certificates expires.
4. The signature is the leaf key's RSA PKCS#1 v1.5 / SHA-256 signature of the raw body.

``SkillRuntime.handle`` checks the applicationId again for every entry point.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import logging
import posixpath
import re
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.verification import DNSName, PolicyBuilder, Store
from cryptography.x509.verification import VerificationError as ChainInvalid

from skill.clock import Clock, utc_now
from skill.errors import (  # noqa: F401 (part of this module's interface)
    ApplicationIdError,
    CertificateError,
    CertificateUrlError,
    SignatureError,
    TimestampError,
    VerificationError,
)
from skill.hosting.chains import (  # noqa: F401 (part of this module's interface)
    MAX_CHAIN_BYTES,
    BoundedLoader,
    ChainDirectory,
    fetch_chain,
)

log = logging.getLogger(__name__)

CHAIN_URL_HEADER = "SignatureCertChainUrl"
SIGNATURE_HEADER = "Signature-256"
CHAIN_HOST = "s3.amazonaws.com"
CHAIN_PATH_PREFIX = "/echo.api/"
ALEXA_SAN = "echo-api.amazon.com"
TIMESTAMP_TOLERANCE_S = 150
MAX_CACHED_CHAINS = 16
MAX_CHAIN_URL_CHARS = 512

Fetch = Callable[[str], bytes]  # normalised chain URL -> PEM bytes



# -- the certificate URL ----------------------------------------------------------------------


@functools.lru_cache(maxsize=256)  # the few genuine spellings stay; exceptions are not cached
def check_chain_url(url: str) -> str:
    """The URL to fetch (normalised) if ``url`` is where Amazon serves Alexa's chain."""
    if len(url) > MAX_CHAIN_URL_CHARS:
        raise CertificateUrlError("certificate URL is too long")
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
    """``verifier(headers, raw_body)``: returns for Alexa's requests, raises otherwise.

    ``skill_id``, when given, refuses other skills' requests before any fetch; ``loader_limits``
    are ``BoundedLoader``'s keyword arguments (tests make them small)."""

    def __init__(self, *, trusted_roots: Iterable[x509.Certificate] | None = None,
                 fetch: Fetch | None = None, clock: Clock = utc_now,
                 tolerance_s: float = TIMESTAMP_TOLERANCE_S, skill_id: str | None = None,
                 **loader_limits: Any) -> None:
        self._store = Store(list(trusted_roots) if trusted_roots is not None
                            else certifi_roots())
        self._fetch = fetch or fetch_chain
        self._clock = clock
        self._tolerance_s = tolerance_s
        self._skill_id = skill_id
        self._chains: dict[str, TrustedChain] = {}  # normalised URL -> validated chain
        self._lock = threading.Lock()
        self._loader = BoundedLoader(self._fetch_and_trust, **loader_limits)

    takes_parsed = True  # the web app passes its own parse of the body (one parse, not two)

    def __call__(self, headers: Mapping[str, str], body: bytes,
                 parsed: Callable[[], Any] | None = None) -> None:
        """``parsed``: the caller's parse of ``body``, called when the body is to be read: the
        envelope, or None when the caller could not read it (then it is parsed here)."""
        url = _header(headers, CHAIN_URL_HEADER)
        encoded = _header(headers, SIGNATURE_HEADER)
        if not url:
            raise CertificateUrlError(f"{CHAIN_URL_HEADER} header is missing")
        if not encoded:
            raise SignatureError(f"{SIGNATURE_HEADER} header is missing")
        try:
            signature = base64.b64decode(encoded, validate=True)
        except ValueError:
            raise SignatureError(f"{SIGNATURE_HEADER} is not base64") from None
        fetch_url = check_chain_url(url)
        now = self._clock()
        event = parsed() if parsed is not None else None
        check_body(event if type(event) is dict else body, now, self._tolerance_s,
                   self._skill_id)
        chain = self._chains.get(fetch_url)
        if chain is None or now >= chain.expires:
            chain = self._loader(fetch_url)  # valid: the loader checks it at a later now
        try:
            chain.key.verify(signature, body, PKCS1v15(), SHA256())
        except InvalidSignature:
            raise SignatureError("signature does not match the body") from None

    # -- cold path: runs in the loader's thread --------------------------------------------------

    def _fetch_and_trust(self, fetch_url: str) -> TrustedChain:
        now = self._clock()
        with self._lock:
            chain = self._chains.get(fetch_url)
        if chain is not None and now < chain.expires:
            return chain
        chain = self.validate(self._fetch(fetch_url), now)
        with self._lock:
            self._remember(fetch_url, chain, now)
        log.info("certificate chain %s trusted until %s", fetch_url, chain.expires.isoformat())
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


def check_body(body: bytes | dict[str, Any], now: dt.datetime,
               tolerance_s: float = TIMESTAMP_TOLERANCE_S, skill_id: str | None = None) -> None:
    """The body's ``request.timestamp`` within ``tolerance_s`` of ``now``, and its
    applicationId ``skill_id`` when that is given (``body``: raw, or already parsed)."""
    if type(body) is dict:
        event: Any = body
    else:
        try:
            event = json.loads(body)
        except (ValueError, RecursionError):
            raise VerificationError("body is not valid JSON") from None
    if not isinstance(event, dict):
        raise VerificationError("body is not a JSON object")
    check_timestamp(event.get("request"), now, tolerance_s)
    if skill_id is not None:
        system = event.get("context")
        system = system.get("System") if isinstance(system, dict) else None
        app = system.get("application") if isinstance(system, dict) else None
        if not isinstance(app, dict) or app.get("applicationId") != skill_id:
            raise ApplicationIdError("applicationId does not match this skill")


def check_timestamp(request: Any, now: dt.datetime,
                    tolerance_s: float = TIMESTAMP_TOLERANCE_S) -> None:
    """``request.timestamp`` within ``tolerance_s`` of ``now``, either way."""
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
