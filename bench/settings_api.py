"""The Alexa Settings API on loopback for the benchmark: the tests' stand-in, one zone for all.

Every turn of the skill reads the device's time zone (``GET {apiEndpoint}/v2/devices/{id}/
settings/System.timeZone``), once per device and process. The envelopes the benchmark sends
name this server as their ``apiEndpoint``, so that call is measured as a quick answer on the
machine (as from Alexa's API), not as a name lookup that fails in an offline sandbox.
"""

from __future__ import annotations

from tests.support.settings_api import SettingsApi

ZONE = "Asia/Tokyo"  # the ja-JP locale's own offset: the same day either way

_api: SettingsApi | None = None


def url() -> str:
    """The stand-in's base URL (started on first use, served for the rest of the process)."""
    global _api
    if _api is None:
        _api = SettingsApi(default=ZONE).__enter__()
    return _api.url
