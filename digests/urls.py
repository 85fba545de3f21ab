"""One canonical spelling per article URL, so the same link found twice compares equal."""

from __future__ import annotations

from urllib.parse import SplitResult, unquote_plus, urlsplit, urlunsplit

# Query parameters that only identify the campaign or click, never the page.
# Matched case-insensitively; a name is dropped when it is listed here or starts
# with one of TRACKING_PARAM_PREFIXES.
TRACKING_PARAMS: frozenset[str] = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "igsh",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "hsctatracking",
        "mkt_tok",
        "ref_src",
        "ref_url",
        "wt_mc",
        "wt.mc_id",
        "wt_zmc",
        "wtmc",
        "ocid",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "pk_campaign",
        "pk_kwd",
        "pk_source",
        "pk_medium",
        "pk_content",
        "s_cid",
        "s_kwcid",
        "vero_id",
        "vero_conv",
        "oly_anon_id",
        "oly_enc_id",
        "rb_clickid",
        "__twitter_impression",
        "spm",
    }
)
TRACKING_PARAM_PREFIXES: tuple[str, ...] = ("utm_", "mc_", "mtm_", "matomo_", "piwik_")

_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_tracking_param(name: str) -> bool:
    """True when a query parameter name only carries click or campaign tracking."""
    key = name.strip().lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PARAM_PREFIXES)


def canonicalize_url(url: str) -> str:
    """Return the canonical form of ``url``; junk comes back stripped, never raises.

    Scheme and host are lower-cased, the host is IDNA-encoded, the default port
    and the fragment are dropped, tracking parameters removed and the rest
    sorted by name (stable, so repeated names keep their order). Values are
    kept byte-for-byte: re-encoding them could turn two different URLs into one.
    """
    stripped = url.strip() if isinstance(url, str) else ""
    try:
        parts = urlsplit(stripped)
        if not parts.scheme or not parts.netloc:
            return stripped
        return urlunsplit(_canonical_parts(parts))
    except (ValueError, UnicodeError):
        return stripped


def _canonical_parts(parts: SplitResult) -> tuple[str, str, str, str, str]:
    scheme = parts.scheme.lower()
    netloc = _canonical_netloc(parts, scheme)
    path = parts.path or "/"
    query = _canonical_query(parts.query)
    return scheme, netloc, path, query, ""


def _canonical_netloc(parts: SplitResult, scheme: str) -> str:
    host = parts.hostname or ""
    port = parts.port  # raises ValueError on a non-numeric or out-of-range port
    host = _idna_host(host.rstrip("."))
    if ":" in host:  # IPv6 literal: brackets were removed by hostname
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    netloc = f"{userinfo}@{host}" if userinfo else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    return netloc


def _idna_host(host: str) -> str:
    if host.isascii():
        return host.lower()
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        # Labels too long or otherwise not encodable: keep a stable lower-case form.
        return host.lower()


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    kept: list[tuple[str, str]] = []
    for part in query.split("&"):
        if not part:
            continue
        name = unquote_plus(part.partition("=")[0])
        if is_tracking_param(name):
            continue
        kept.append((name, part))
    kept.sort(key=lambda item: item[0])
    return "&".join(part for _, part in kept)
