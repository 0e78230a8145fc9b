"""UAPI `Locale::get_attributes`: the account's locale, as cPanel's Cpanel/API/Locale.pm
answers it. The locale is the account's (its package's LANG, `en` by default); cPanel's
locales are all UTF-8 (Cpanel::Locale::Utils::init_lexicon) and written left to right but
Arabic, Hebrew, Persian and Urdu.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import UapiResult, uapi
from gatehouse.domain import packages

MODULE = "Locale"
_IGNORED = ("api.version", "cpanel_jsonapi_module", "cpanel_jsonapi_func",
            "cpanel_jsonapi_apiversion")  # fmt: skip
_DEFAULTS = ("locale", "encoding", "direction")
_RIGHT_TO_LEFT = frozenset({"ar", "he", "fa", "ur"})
# The names of the locales cPanel ships in the locale's own tongue (the handle is the user's):
# gatehouse holds English's only; for another locale `name` is its tag, cPanel's own
# fallback when it finds no name (Cpanel::Locale::get_locale_name_or_tag).
_NAMES = {"en": "English"}


def _perl_split(text: str) -> list[str]:
    """Perl's split(',', TEXT): trailing empty fields dropped (none at all for "")."""
    parts = text.split(",")
    while parts and parts[-1] == "":
        parts.pop()
    return parts


def _locale(call: Call) -> str:
    return packages.with_defaults(call.caller_account().limits).get("LANG", "en")


@uapi(MODULE, "get_attributes", "The account's locale, its encoding and direction.",
      readonly=True)  # fmt: skip
def get_attributes(call: Call) -> UapiResult:
    asked = [a for a in _perl_split(call.params.get("attributes") or "") if a not in _IGNORED]
    locale = _locale(call)
    language = locale.replace("-", "_").split("_")[0]
    supported = {
        "locale": locale,
        "name": _NAMES.get(locale, locale),
        "encoding": "utf-8",
        "direction": "rtl" if language in _RIGHT_TO_LEFT else "ltr",
    }
    data: dict[str, Any] = {}
    warnings: list[str] = []
    for attribute in asked or _DEFAULTS:
        if attribute in supported:
            data[attribute] = supported[attribute]
        else:
            warnings.append(f"Unknown attribute: {attribute}")
    return UapiResult(data=data, warnings=warnings or None)
