"""Canonical URLs: one spelling per page, so a link seen twice is recognised as one item.

The same page reaches us as ``http://`` and ``https://``, with and without ``www.``, with
``?utm_source=…`` appended by a newsletter, as an AMP copy, or with a ``#comments`` fragment.
None of these change what the page says, so all of them are folded away here; what is left
(host, path, the query parameters a site needs to find the page) still tells pages apart.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

# Query parameters that only say who sent the reader. Prefixes end with "_".
_TRACKING_PREFIXES = ("utm_", "at_", "pk_", "mtm_", "hsa_", "_hs", "mc_", "oly_")
_TRACKING_NAMES = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid",
        "twclid", "ttclid", "li_fat_id", "_ga", "_gl", "ref", "ref_src", "ref_url",
        "referrer", "cmpid", "ocid", "smid", "smtyp", "sr_share", "share", "ito", "itm_source",
        "itm_medium", "itm_campaign", "rss", "guccounter", "guce_referrer", "guce_referrer_sig",
        "spm", "s_cid",
    }
)  # fmt: skip
# "amp", "outputType" and "output" only select an AMP rendering when set to one of these.
_AMP_VALUES = frozenset({"amp", "1", "true"})
_HOST_PREFIXES = ("www.", "amp.", "m.", "mobile.")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_AMP_CACHE = re.compile(r"^[a-z0-9-]+\.cdn\.ampproject\.org$")
_AMP_PATH_SUFFIX = re.compile(r"(?:/amp|\.amp)(?=/?$)|(?<=\.)amp\.(?=html?$)")
# RFC 3986 unreserved characters may be percent-encoded or not: decode, then re-encode the
# rest. "%" itself is re-encoded, so a decoded "%41" stays "%2541" instead of becoming "A" on
# a second pass.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
# A page in an AMP cache is wrapped once; one wrapped deeper than this is no address to fold,
# and unwrapping each layer re-reads the rest of the string.
_AMP_CACHE_DEPTH = 3
# Whitespace and control characters make no host name; urlsplit drops some of them itself.
_NOT_A_HOST = re.compile(r"[\s\x00-\x1f\x7f]")


def canonical_url(url: str) -> str:
    """Fold the spellings of one web page into one string (non-web identifiers pass unchanged).

    http and https are treated as one page because sites move to https long before their
    feeds and syndication partners do; the result always says ``https``. The result is its
    own canonical form (``canonical_url(canonical_url(u)) == canonical_url(u)``): stored keys
    and a URL seen again agree however often either was folded.
    """
    raw = current = url.strip()
    for _ in range(_AMP_CACHE_DEPTH + 1):
        try:
            parts = urlsplit(current)
            port = parts.port
        except ValueError:
            return current
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return current
        host = _canonical_host(parts.hostname)
        if not host or _NOT_A_HOST.search(host):
            return current
        path, query = parts.path, parts.query
        if not _AMP_CACHE.match(host):
            break
        inner = _amp_cache_target(path, query)
        if inner is None:
            return current
        current = inner.strip()
    else:
        return raw
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port not in (_DEFAULT_PORTS[scheme], _DEFAULT_PORTS["https"]):
        host = f"{host}:{port}"
    fragment = parts.fragment if parts.fragment.startswith("!") else ""
    return urlunsplit(("https", host, _canonical_path(path), _canonical_query(query), fragment))


def _canonical_host(hostname: str) -> str:
    host = hostname.lower().rstrip(".")
    # Each prefix is one label: amp.m.example.com is example.com too.
    while host.count(".") >= 2 and host.startswith(_HOST_PREFIXES):
        host = host.split(".", 1)[1]
    return host


def _canonical_path(path: str) -> str:
    path = quote(unquote(path), safe=_PATH_SAFE)
    while True:  # /a/amp/ loses "/", then "/amp": fold until nothing is left to fold
        shorter = _shorter_path(path)
        if shorter == path:
            return path
        path = shorter


def _shorter_path(path: str) -> str:
    path = re.sub(r"/{2,}", "/", path)
    path = _AMP_PATH_SUFFIX.sub("", path)
    path = path.rstrip("/")
    if path.endswith(("/index.html", "/index.htm", "/index.php")):
        path = path.rsplit("/", 1)[0]
    return path


def _canonical_query(query: str) -> str:
    pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if _keep_param(k, v)]
    return urlencode(sorted(pairs))


def _keep_param(name: str, value: str) -> bool:
    low = name.lower()
    if low in ("outputtype", "output", "amp"):
        return value.lower() not in _AMP_VALUES and value != ""
    return low not in _TRACKING_NAMES and not low.startswith(_TRACKING_PREFIXES)


def _amp_cache_target(path: str, query: str) -> str | None:
    """``https://example-com.cdn.ampproject.org/c/s/example.com/a`` is ``example.com/a``."""
    match = re.match(r"^/[a-z]+(?:/s)?/(.+)$", path)
    if not match:
        return None
    return "https://" + match.group(1) + (f"?{query}" if query else "")
