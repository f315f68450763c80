"""The skill's one error hierarchy for requests it will not answer.

Every refusal is a ``BadRequest`` (HTTP 400 on the web service; a warning line and a re-raise on
Lambda) with a short reason that is safe to log and to send back. The verifier's refusals are
``VerificationError``s, hostile text is an ``UntrustedText``. This module imports nothing, so
any layer may raise these without loading the skill.
"""

from __future__ import annotations


class BadRequest(ValueError):
    """The request is not an Alexa request envelope this skill can answer."""


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


class ApplicationIdError(BadRequest):
    """The request is for another skill."""


class UntrustedText(BadRequest):
    """Text that identifies the request (an id, its type, its locale) is not clean text."""
