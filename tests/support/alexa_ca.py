"""A stand-in for Amazon's signing PKI, made with ``cryptography`` in the test run.

``TestCA`` has a root and an intermediate, and issues leaf certificates like Alexa's signing
certificate (SAN ``echo-api.amazon.com``), or wrong ones on request. ``signed_headers`` signs a
body the way Alexa does: ``Signature-256`` (RSA PKCS#1 v1.5, SHA-256) and ``SignatureCertChainUrl``.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CHAIN_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"
ALEXA_SAN = "echo-api.amazon.com"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
YEAR = dt.timedelta(days=365)


@functools.cache
def rsa_key(name: str) -> rsa.RSAPrivateKey:
    """One 2048-bit key per name for the whole run (key generation is the slow part)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Knee Routine Test PKI"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _ski(key: rsa.RSAPrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def _ca_cert(subject: str, key: rsa.RSAPrivateKey, issuer: x509.Certificate | None,
             issuer_key: rsa.RSAPrivateKey) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - YEAR)
        .not_valid_after(NOW + 10 * YEAR)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(_ski(key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer_key.public_key()), critical=False)
    )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class Leaf:
    key: rsa.RSAPrivateKey
    chain_pem: bytes  # leaf first, then the intermediate: what Amazon serves at the URL


class TestCA:
    __test__ = False  # not a pytest test class

    def __init__(self, name: str = "test") -> None:
        self.root_key = rsa_key(f"{name}-root")
        self.root = _ca_cert(f"{name} Root CA", self.root_key, None, self.root_key)
        self.intermediate_key = rsa_key(f"{name}-intermediate")
        self.intermediate = _ca_cert(f"{name} Intermediate CA", self.intermediate_key,
                                     self.root, self.root_key)

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def leaf(self, *, san: tuple[str, ...] = (ALEXA_SAN,), not_before: dt.datetime | None = None,
             not_after: dt.datetime | None = None, self_signed: bool = False,
             key_name: str = "leaf") -> Leaf:
        """A signing certificate like Alexa's, or a wrong one (other SAN, expired, self-signed)."""
        key = rsa_key(key_name)
        issuer_name = _name(ALEXA_SAN) if self_signed else self.intermediate.subject
        issuer_key = key if self_signed else self.intermediate_key
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(ALEXA_SAN))
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or NOW - dt.timedelta(days=30))
            .not_valid_after(not_after or NOW + dt.timedelta(days=300))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in san]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=True, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(_ski(key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                issuer_key.public_key()), critical=False)
            .sign(issuer_key, hashes.SHA256())
        )
        chain = [cert] if self_signed else [cert, self.intermediate]
        return Leaf(key, b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain))

    def write_files(self, directory: Path, leaf: Leaf, url: str = CHAIN_URL) -> tuple[Path, Path]:
        """A trusted-roots file and a chain directory, as an air-gapped operator keeps them."""
        directory.mkdir(parents=True, exist_ok=True)
        roots = directory / "roots.pem"
        roots.write_bytes(self.root_pem)
        chains = directory / "chains"
        chains.mkdir(exist_ok=True)
        (chains / url.rsplit("/", 1)[-1]).write_bytes(leaf.chain_pem)
        return roots, chains


def signature(key: rsa.RSAPrivateKey, body: bytes) -> str:
    """What Alexa puts in ``Signature-256``: base64 of RSA PKCS#1 v1.5 over SHA-256 of the body."""
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def signed_headers(leaf: Leaf, body: bytes, url: str = CHAIN_URL) -> dict[str, str]:
    return {"Content-Type": "application/json; charset=utf-8",
            "SignatureCertChainUrl": url, "Signature-256": signature(leaf.key, body)}


@functools.cache
def default_ca() -> TestCA:
    return TestCA()


@functools.cache
def default_leaf() -> Leaf:
    return default_ca().leaf()
