"""The read cache of deploy/nginx/landfund-cache.conf, with Debian's nginx on loopback in front of a live landfund:
an anonymous tile is answered from the cache the second time; a signed-in request (bearer token or session cookie)
always reaches landfund and is never stored, so no one is ever served another viewer's answer."""

from __future__ import annotations

import re

import httpx
import pytest
from conftest import sign_in, token_for, user_for
from test_api_tiles import tile_of

from bench.tile_cache import start


@pytest.fixture(scope="module")
def cache(live, tmp_path_factory):
    """nginx with the shipped configuration (bench.tile_cache.start), in front of this run's live landfund."""
    with start(live.port, tmp_path_factory.mktemp("nginx")) as base:
        yield base


def tile_url() -> str:
    z, x, y = tile_of(103.03, 21.40, 12)
    return f"/collections/parcels/tiles/WebMercatorQuad/{z}/{x}/{y}"


def test_an_anonymous_tile_comes_from_the_cache_the_second_time(cache):
    with httpx.Client(base_url=cache) as c:
        url = tile_url() + "?properties=code,status"  # a tile of its own, so the first request is a miss
        first, second = c.get(url), c.get(url)
    assert first.status_code == second.status_code == 200 and first.content and first.content == second.content
    assert (first.headers["x-cache-status"], second.headers["x-cache-status"]) == ("MISS", "HIT")
    assert second.headers["cache-control"] == "public, max-age=60" and second.headers["etag"] == first.headers["etag"]
    assert "Cookie" in second.headers["vary"] and "Authorization" in second.headers["vary"]


def test_a_signed_in_tile_is_never_cached_nor_served_from_the_cache(cache, demo_ro):
    url = tile_url()
    with httpx.Client(base_url=cache) as c:
        public = c.get(url)
        assert c.get(url).headers["x-cache-status"] == "HIT"  # the public tile is stored now
        token = {"Authorization": f"Bearer {token_for(demo_ro, 'planner', '11')}"}
        mine = [c.get(url, headers=token) for _ in range(2)]
    assert [r.headers["x-cache-status"] for r in mine] == ["BYPASS", "BYPASS"]
    assert mine[0].headers["cache-control"].startswith("private")
    assert mine[0].content != public.content  # a planner's tile holds the unpublished parcels too


def test_a_session_cookie_bypasses_the_cache_too(cache, demo_ro):
    name = user_for(demo_ro, "planner", "11")
    with httpx.Client(base_url=cache) as c:
        assert sign_in(c, name).status_code == 303 and c.cookies.get("landfund_session")
        r = c.get(tile_url())
        assert r.headers["x-cache-status"] == "BYPASS" and r.headers["cache-control"].startswith("private")
        page = c.get("/parcels")
        assert page.headers["x-cache-status"] == "BYPASS" and re.search(r"\d+ khu đất", page.text)
