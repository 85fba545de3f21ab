from __future__ import annotations

import pytest

from digests.urls import canonicalize_url, is_tracking_param


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # scheme and host case, default ports, fragments
        ("HTTPS://WWW.Example.COM/Path/Page", "https://www.example.com/Path/Page"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://example.com/a#comments", "https://example.com/a"),
        # empty path becomes "/"
        ("https://example.com", "https://example.com/"),
        ("https://example.com?b=2", "https://example.com/?b=2"),
        # tracking parameters go, the rest is sorted by name
        (
            "https://example.com/story?utm_source=tw&id=7&utm_medium=social&fbclid=XYZ",
            "https://example.com/story?id=7",
        ),
        ("https://example.com/s?gclid=1&dclid=2&msclkid=3&yclid=4", "https://example.com/s"),
        ("https://example.com/s?mc_cid=1&mc_eid=2&mc_tc=3&_ga=4", "https://example.com/s"),
        ("https://example.com/s?igshid=1&ref_src=twsrc&wt_mc=rss.x", "https://example.com/s"),
        ("https://example.com/s?UTM_Campaign=spring&page=2", "https://example.com/s?page=2"),
        ("https://example.com/s?z=1&a=2&m=3", "https://example.com/s?a=2&m=3&z=1"),
        # repeated names keep their relative order (stable sort)
        ("https://example.com/s?tag=b&x=1&tag=a", "https://example.com/s?tag=b&tag=a&x=1"),
        # values are kept byte-for-byte
        ("https://example.com/s?q=a%20b&r=c+d", "https://example.com/s?q=a%20b&r=c+d"),
        # internationalised host names are IDNA-encoded
        ("https://Bücher.example/katalog", "https://xn--bcher-kva.example/katalog"),
        ("https://example.com./a", "https://example.com/a"),
        ("  https://example.com/a  ", "https://example.com/a"),
    ],
)
def test_canonical_form(raw: str, expected: str) -> None:
    assert canonicalize_url(raw) == expected


def test_equivalent_links_compare_equal() -> None:
    variants = [
        "https://news.example.org/world/kursk-123?utm_source=rss",
        "HTTPS://news.example.org:443/world/kursk-123#top",
        "https://NEWS.example.org/world/kursk-123?fbclid=abc&utm_campaign=x",
    ]
    assert len({canonicalize_url(v) for v in variants}) == 1


def test_path_case_and_meaningful_params_still_distinguish_pages() -> None:
    assert canonicalize_url("https://example.com/A") != canonicalize_url("https://example.com/a")
    assert canonicalize_url("https://example.com/?id=1") != canonicalize_url(
        "https://example.com/?id=2"
    )


@pytest.mark.parametrize(
    "junk",
    ["", "   ", "not a url", "example.com/page", "http://[::1", "https://example.com:99999/x",
     "https://example.com:port/x", "mailto:someone@example.com", "\x00\x01", "//cdn.example/x"],
)  # fmt: skip
def test_junk_comes_back_stripped_and_never_raises(junk: str) -> None:
    assert canonicalize_url(f" {junk} ") == junk.strip()


def test_ipv6_host_keeps_brackets_and_drops_default_port() -> None:
    assert canonicalize_url("http://[2001:DB8::1]:80/x") == "http://[2001:db8::1]/x"


def test_tracking_param_list_is_case_insensitive() -> None:
    assert is_tracking_param("UTM_SOURCE")
    assert is_tracking_param("fbclid")
    assert not is_tracking_param("id")
    assert not is_tracking_param("page")
