"""Test fixtures. Every test that touches data uses a real PostGIS server.

With DATABASE_URL set, that server is used (the role needs CREATEDB). Otherwise the session starts an
embedded cluster of its own under .landfund/test (port 55433, so it never disturbs `landfund serve`),
and stops it at the end if it started it.

Isolation: one template database is migrated per session; each test that writes gets a fresh copy
(CREATE DATABASE … TEMPLATE), so no test sees another's rows.
"""

from __future__ import annotations

import itertools
import os
import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from gis_service.catalogue import load_catalogue
from gis_service.core import bootstrap
from gis_service.core.config import Settings, get_settings
from gis_service.core.db import libpq_dsn, make_engine, normalise_url
from gis_service.core.embedded import Cluster
from gis_service.schema import upgrade

REPO = Path(__file__).resolve().parent.parent
TEST_HOME = Path(os.environ.get("LANDFUND_TEST_HOME", REPO / ".landfund" / "test"))
TEST_PORT = int(os.environ.get("LANDFUND_TEST_DB_PORT", "55433"))
TEMPLATE = "landfund_test_template"
_counter = itertools.count()


@pytest.fixture(scope="session")
def server_url() -> str:
    """SQLAlchemy URL of the server (its `postgres` maintenance database)."""
    if os.environ.get("DATABASE_URL"):
        yield make_url(normalise_url(os.environ["DATABASE_URL"])).set(database="postgres").render_as_string(False)
        return
    cluster = Cluster(TEST_HOME, TEST_PORT, db_name="postgres")
    started = cluster.start()
    yield cluster.url("postgres")
    if started:
        cluster.stop()


def db_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def as_role(url: str, role: str) -> str:
    """The same database, as another role (the test cluster trusts its private socket)."""
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


def app_url(url: str) -> str:
    """The application role: what the service and the everyday commands connect as (it owns nothing)."""
    return as_role(url, bootstrap.APP)


def owner_url(url: str) -> str:
    return as_role(url, bootstrap.OWNER)


def admin(server_url: str) -> psycopg.Connection:
    return psycopg.connect(libpq_dsn(server_url), autocommit=True)


def drop_database(server_url: str, name: str) -> None:
    with admin(server_url) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare_database(server_url: str, name: str) -> str:
    """A new database as landfund's bootstrap leaves it (roles, owner, PostGIS, VN-2000 zones), migrated by the
    owner, the application role granted. Returns the superuser's URL of it."""
    from sqlalchemy.pool import NullPool

    drop_database(server_url, name)
    with admin(server_url) as c:
        bootstrap.ensure_roles(c)
        c.execute(f'CREATE DATABASE "{name}" OWNER "{bootstrap.OWNER}"')
    url = db_url(server_url, name)
    with admin(url) as c:
        bootstrap.bootstrap_database(c)
    eng = make_engine(owner_url(url), poolclass=NullPool)
    upgrade(eng)
    eng.dispose()
    return url


@pytest.fixture(scope="session")
def template_url(server_url) -> str:
    url = prepare_database(server_url, TEMPLATE)
    yield url
    drop_database(server_url, TEMPLATE)


def clone_database(server_url: str, template: str, prefix: str = "t") -> str:
    name = f"{prefix}_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
    with admin(server_url) as c:
        c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" OWNER "{bootstrap.OWNER}" STRATEGY FILE_COPY')
    return name


@pytest.fixture
def database(server_url, template_url) -> str:
    """A fresh, migrated, empty database for one test; dropped afterwards."""
    name = clone_database(server_url, TEMPLATE)
    yield db_url(server_url, name)
    drop_database(server_url, name)


@pytest.fixture
def settings(database, tmp_path) -> Settings:
    return Settings(database_url=database, home=tmp_path / "home")


@pytest.fixture
def catalogue(settings):
    return load_catalogue(settings.layers_dir)


@pytest.fixture
def conn(database):
    with psycopg.connect(libpq_dsn(database)) as c:
        yield c


@pytest.fixture
def env(database, tmp_path, monkeypatch):
    """Point the CLI (and get_settings) at the test database: the application role serves, the owner migrates."""
    monkeypatch.setenv("DATABASE_URL", app_url(database))
    monkeypatch.setenv("DATABASE_OWNER_URL", owner_url(database))
    monkeypatch.setenv("LANDFUND_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    yield database
    get_settings.cache_clear()


# -- the demo dataset and the API ---------------------------------------------------------------------

DEMO_TEMPLATE = "landfund_test_demo"


@pytest.fixture(scope="session")
def demo_template(server_url, template_url) -> str:
    """A database with the Điện Biên demo loaded, used only as a template for clones."""
    from gis_service.ingest.demo import load_demo

    drop_database(server_url, DEMO_TEMPLATE)
    with admin(server_url) as c:
        c.execute(
            f'CREATE DATABASE "{DEMO_TEMPLATE}" TEMPLATE "{TEMPLATE}" OWNER "{bootstrap.OWNER}" STRATEGY FILE_COPY'
        )
    url = db_url(server_url, DEMO_TEMPLATE)
    s = Settings(database_url=url)
    with psycopg.connect(libpq_dsn(owner_url(url))) as c:  # as `landfund demo` does
        load_demo(c, load_catalogue(s.layers_dir), s)
    yield DEMO_TEMPLATE
    drop_database(server_url, DEMO_TEMPLATE)


@pytest.fixture
def demo_db(server_url, demo_template) -> str:
    """A fresh copy of the demo database for one test (write freely)."""
    name = clone_database(server_url, demo_template, "demo")
    yield db_url(server_url, name)
    drop_database(server_url, name)


@pytest.fixture(scope="module")
def demo_ro(server_url, demo_template) -> str:
    """A copy of the demo database shared by a module's read-only tests."""
    name = clone_database(server_url, demo_template, "ro")
    yield db_url(server_url, name)
    drop_database(server_url, name)


def api_client(url: str, tmp: Path, **overrides):
    from fastapi.testclient import TestClient

    from gis_service.api.app import create_app

    return TestClient(create_app(Settings(database_url=app_url(url), home=tmp, **overrides)))


@pytest.fixture(scope="module")
def api(demo_ro, tmp_path_factory):
    """An in-process client of the API over the module's demo database."""
    with api_client(demo_ro, tmp_path_factory.mktemp("api")) as client:
        yield client


@pytest.fixture
def api_rw(demo_db, tmp_path):
    with api_client(demo_db, tmp_path) as client:
        client.db = demo_db
        yield client


class LiveServer:
    """uvicorn serving the API on a loopback port in a background thread, for real HTTP clients."""

    def __init__(self, url: str, tmp: Path, **overrides):
        import socket
        import threading

        import uvicorn

        from gis_service.api.app import create_app

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(Settings(database_url=app_url(url), home=tmp, **overrides)),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        import time

        for _ in range(200):
            if self.server.started:
                break
            time.sleep(0.05)
        assert self.server.started, "uvicorn did not start"

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def live(demo_ro, tmp_path_factory):
    server = LiveServer(demo_ro, tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for a module's tests (each Page has its own context: cookies, viewport). Per module,
    not per run: Playwright's sync API keeps an event loop running while it is open, which asyncio.run() elsewhere
    (the scaling tests) cannot share."""
    from browser import launch
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


def token_for(url: str, role: str, unit: str | None = None) -> str:
    """A fresh user with `role` (and unit) and a bearer token for it."""
    from gis_service.services import users

    name = f"{role}-{unit or 'all'}-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_dsn(url)) as c:
        users.add_user(c, name, role, unit)
        return users.issue_token(c, name, days=1)[0]


PASSWORD = "mật-khẩu-đủ-dài-2026"


def user_for(url: str, role: str, unit: str | None = None, password: str = PASSWORD) -> str:
    """A fresh user with `role` (and unit) who signs in with `password`; returns the user name."""
    from gis_service.services import auth, users

    name = f"{role}-{unit or 'all'}-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq_dsn(url), autocommit=True) as c:
        users.add_user(c, name, role, unit)
        auth.set_password(c, name, password)
    return name


def sign_in(client, name: str, password: str = PASSWORD, next_: str = "/"):
    """Sign `client` (a TestClient) in through the login form, as a browser does; returns the response."""
    client.get("/login")
    return client.post(
        "/login",
        data={"username": name, "password": password, "csrf": client.cookies.get("landfund_login_csrf"), "next": next_},
        follow_redirects=False,
    )


def csrf_of(html: str) -> str:
    """The session's CSRF token, as the page's forms carry it."""
    import re

    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)
