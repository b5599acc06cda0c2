"""The embedded PostGIS cluster: a private PostgreSQL data directory under ``LANDFUND_HOME``.

It uses the machine's own PostgreSQL and PostGIS binaries. It has its own data directory, port and
socket directory, so it never touches a system cluster. ``initdb`` refuses to run as root, so when
landfund runs as root the cluster runs as an unprivileged OS user (``postgres`` when it exists).

Access: the socket directory is private (mode 0700), so socket connections are trusted; TCP listens on
127.0.0.1 only and needs the generated password kept in ``LANDFUND_HOME/db.password``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import quote

from .pgserver import ClusterError, cluster_os_user, find_binaries, traversable_by

ROLE = "landfund"  # the cluster's superuser: bootstrap only (roles, database, extension); nothing serves as it


class Cluster:
    """One embedded cluster. All state lives under ``home`` (see module docstring)."""

    def __init__(self, home: Path, port: int, db_name: str = "landfund", os_user: str | None = None):
        self.home = Path(home).resolve()
        self.port = port
        self.db_name = db_name
        self.user = cluster_os_user(os_user)
        self.root = self._cluster_root()
        self.data_dir = self.root / "pgdata"
        self.run_dir = self.root / "run"
        self.log_file = self.root / "postgres.log"
        self.password_file = self.home / "db.password"

    # -- layout -------------------------------------------------------------------------------------
    def _cluster_root(self) -> Path:
        """Normally ``home/cluster``. As root, when the cluster's user cannot reach ``home`` (say it is
        under /root), the data goes to /var/lib/landfund/clusters/<hash of home> instead."""
        root = self.home / "cluster"
        if self.user is None or traversable_by(self.home, self.user):
            return root
        return Path("/var/lib/landfund/clusters") / self._external_id()

    def _external_id(self) -> str:
        """The name of this home's cluster under /var/lib/landfund/clusters, kept in ``home/cluster.id``. A new
        home gets a new random one: a home deleted and made again at the same path (test runs, a reinstall)
        must not adopt the cluster the old one left there, with its data and without its password. A home from
        before cluster.id existed (it still has its db.password) keeps the cluster named by its path's hash."""
        marker = self.home / "cluster.id"
        if marker.exists():
            return marker.read_text().strip()
        legacy = hashlib.sha256(str(self.home).encode()).hexdigest()[:16]
        if (self.home / "db.password").exists() and (Path("/var/lib/landfund/clusters") / legacy).exists():
            name = legacy
        else:
            name = secrets.token_hex(8)
        self.home.mkdir(parents=True, exist_ok=True)
        marker.write_text(name + "\n")
        return name

    def _run(self, args: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
        if self.user is not None:
            kw.update(user=self.user.pw_uid, group=self.user.pw_gid, extra_groups=[])
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C.UTF-8"
        proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=str(self.root), **kw)
        if check and proc.returncode != 0:
            raise ClusterError(f"{Path(args[0]).name} failed (exit {proc.returncode}):\n{proc.stderr or proc.stdout}")
        return proc

    def _own(self, path: Path, mode: int) -> None:
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, mode)
        if self.user is not None:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    @contextlib.contextmanager
    def _lock(self):
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / "cluster.lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- state --------------------------------------------------------------------------------------
    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialised:
            return False
        return self._run([find_binaries()["pg_ctl"], "status", "-D", str(self.data_dir)], check=False).returncode == 0

    def password(self) -> str:
        return self.password_file.read_text().strip()

    def url(self, database: str | None = None, role: str = ROLE) -> str:
        """SQLAlchemy URL over the private socket, as `role` (the superuser unless said otherwise)."""
        db = database or self.db_name
        return f"postgresql+psycopg://{role}@/{quote(db)}?host={quote(str(self.run_dir))}&port={self.port}"

    def role_password(self, role: str) -> str:
        """The TCP password of `role` (the superuser's is db.password; each landfund role has its own file)."""
        if role == ROLE:
            return self.password()
        path = self.home / f"db.{role}.password"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(24) + "\n")
            os.chmod(path, 0o600)
        return path.read_text().strip()

    def tcp_url(self, database: str | None = None, role: str = ROLE) -> str:
        db = database or self.db_name
        return f"postgresql://{role}:{quote(self.role_password(role), safe='')}@127.0.0.1:{self.port}/{quote(db)}"

    def status(self) -> dict:
        return {
            "running": self.running(),
            "initialised": self.initialised,
            "data_dir": str(self.data_dir),
            "socket_dir": str(self.run_dir),
            "port": self.port,
            "log": str(self.log_file),
            "os_user": self.user.pw_name if self.user else pwd.getpwuid(os.geteuid()).pw_name,
        }

    # -- lifecycle ----------------------------------------------------------------------------------
    def init(self) -> bool:
        if self.initialised:
            return False
        pg = find_binaries()
        self.home.mkdir(parents=True, exist_ok=True)
        self._own(self.root, 0o700 if self.user is None else 0o755)
        self._own(self.run_dir, 0o700)
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise ClusterError(f"{self.data_dir} exists but holds no cluster; move it away and retry.")
        self._own(self.data_dir, 0o700)
        if not self.password_file.exists():
            self.password_file.write_text(secrets.token_urlsafe(24) + "\n")
            os.chmod(self.password_file, 0o600)
        pwfile = self.root / ".initdb-pw"
        pwfile.write_text(self.password() + "\n")
        os.chmod(pwfile, 0o600)
        if self.user is not None:
            os.chown(pwfile, self.user.pw_uid, self.user.pw_gid)
        try:
            self._run(
                [
                    pg["initdb"],
                    "-D",
                    str(self.data_dir),
                    "-U",
                    ROLE,
                    f"--pwfile={pwfile}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        conf = self.data_dir / "postgresql.conf"
        with open(conf, "a") as fh:
            fh.write(
                "\n# landfund embedded cluster\n"
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.run_dir}'\n"
                "unix_socket_permissions = 0700\n"
                "max_connections = 200\n"
                "jit = off\n"
                "logging_collector = off\n"
                "timezone = 'UTC'\n"
            )
        return True

    def init_standby(self, primary: Cluster) -> None:
        """Make this (uninitialised) cluster a streaming replica of `primary`, with pg_basebackup -R.

        The copy keeps the primary's settings; port and socket become this cluster's own."""
        if self.initialised:
            raise ClusterError(f"{self.data_dir} already holds a cluster")
        self.home.mkdir(parents=True, exist_ok=True)
        self._own(self.root, 0o700 if self.user is None else 0o755)
        self._own(self.run_dir, 0o700)
        self._own(self.data_dir, 0o700)
        shutil.copyfile(primary.password_file, self.password_file)
        os.chmod(self.password_file, 0o600)
        self._run(
            [
                find_binaries()["pg_basebackup"],
                "-D",
                str(self.data_dir),
                "-R",
                "-X",
                "stream",
                "-c",
                "fast",
                "-h",
                str(primary.run_dir),
                "-p",
                str(primary.port),
                "-U",
                ROLE,
            ]
        )
        with open(self.data_dir / "postgresql.conf", "a") as fh:
            fh.write(
                f"\n# landfund standby of {primary.data_dir}\nport = {self.port}\n"
                f"unix_socket_directories = '{self.run_dir}'\nhot_standby = on\n"
            )

    def _port_busy(self) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def start(self) -> bool:
        """Start the cluster (creating it first if needed). Returns True if this call started it."""
        with self._lock():
            self.init()
            if self.running():
                self._ensure_database()
                return False
            if self._port_busy():
                raise ClusterError(
                    f"port {self.port} on 127.0.0.1 is already in use by another program; "
                    "set LANDFUND_DB_PORT to a free port."
                )
            self._own(self.run_dir, 0o700)
            pg = find_binaries()
            if not self.log_file.exists():
                self.log_file.touch()
            if self.user is not None:
                os.chown(self.log_file, self.user.pw_uid, self.user.pw_gid)
            proc = self._run(
                # the port on the command line: LANDFUND_DB_PORT may have changed since initdb wrote the conf
                [
                    pg["pg_ctl"],
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-o",
                    f"-p {int(self.port)}",
                ],
                check=False,
            )
            if proc.returncode != 0:
                tail = "".join(self.log_file.read_text(errors="replace").splitlines(True)[-15:])
                raise ClusterError(f"PostgreSQL did not start (see {self.log_file}):\n{tail}")
            self._ensure_database()
            return True

    def stop(self) -> bool:
        with self._lock():
            if not self.running():
                return False
            self._run([find_binaries()["pg_ctl"], "stop", "-w", "-t", "60", "-m", "fast", "-D", str(self.data_dir)])
            return True

    def _ensure_database(self) -> None:
        """The owner and application roles, landfund's database owned by the owner, PostGIS and the VN-2000
        zones in it (see core/bootstrap.py). Idempotent: runs at every start."""
        import psycopg

        from . import bootstrap

        with psycopg.connect(
            host=str(self.run_dir), port=self.port, user=ROLE, dbname="postgres", autocommit=True
        ) as c:
            if (c.execute("SELECT pg_is_in_recovery()").fetchone() or (False,))[0]:
                return  # a standby: it has its primary's roles and databases
            bootstrap.ensure_roles(c, passwords={r: self.role_password(r) for r in (bootstrap.OWNER, bootstrap.APP)})
            if self.db_name == "postgres":
                return  # a maintenance connection only (tests create their databases themselves)
            if c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [self.db_name]).fetchone() is None:
                c.execute(f'CREATE DATABASE "{self.db_name}" OWNER "{bootstrap.OWNER}"')
            else:
                c.execute(f'ALTER DATABASE "{self.db_name}" OWNER TO "{bootstrap.OWNER}"')
        with psycopg.connect(
            host=str(self.run_dir), port=self.port, user=ROLE, dbname=self.db_name, autocommit=True
        ) as c:
            bootstrap.bootstrap_database(c)


def cluster_from_settings(settings) -> Cluster:
    return Cluster(settings.home, settings.db_port, settings.db_name, settings.db_os_user)
