"""The machine's PostgreSQL server: where its binaries and PostGIS are, and which OS account runs it (initdb
refuses root, so as root the cluster runs as `postgres`). core.embedded builds its cluster on these."""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import pwd
import re
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .errors import LandfundError


class ClusterError(LandfundError):
    """The embedded cluster cannot be set up, started or stopped."""


@dataclass(frozen=True)
class PgBinaries:
    bindir: Path
    major: int
    sharedir: Path

    def __getitem__(self, name: str) -> str:
        return str(self.bindir / name)


def _major(bindir: Path) -> int | None:
    try:
        out = subprocess.run([str(bindir / "postgres"), "-V"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    m = re.search(r"(\d+)(?:\.\d+)?", out)
    return int(m.group(1)) if m else None


def _candidate_bindirs() -> list[Path]:
    dirs: list[Path] = []
    if env := os.environ.get("LANDFUND_PG_BINDIR"):
        dirs.append(Path(env))
    if pg_config := shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True).stdout
            dirs.append(Path(out.strip()))
    versioned = glob.glob("/usr/lib/postgresql/*/bin")
    versioned.sort(key=lambda p: int(re.sub(r"\D", "", Path(p).parent.name) or 0), reverse=True)
    dirs += [Path(p) for p in versioned]
    dirs += [Path("/usr/local/pgsql/bin"), Path("/usr/pgsql/bin")]
    seen: list[Path] = []
    for d in dirs:
        if d not in seen:
            seen.append(d)
    return seen


@functools.lru_cache(maxsize=1)
def find_binaries() -> PgBinaries:
    """The newest PostgreSQL server whose share directory has PostGIS; a clear error when there is none."""
    without_postgis: list[int] = []
    for bindir in _candidate_bindirs():
        if not all((bindir / exe).exists() for exe in ("initdb", "pg_ctl", "postgres")):
            continue
        major = _major(bindir)
        if major is None:
            continue
        sharedir = Path(f"/usr/share/postgresql/{major}")
        if (bindir / "pg_config").exists():
            with contextlib.suppress(OSError, subprocess.CalledProcessError):
                out = subprocess.run(
                    [str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=True
                )
                sharedir = Path(out.stdout.strip())
        if (sharedir / "extension" / "postgis.control").exists():
            return PgBinaries(bindir=bindir, major=major, sharedir=sharedir)
        without_postgis.append(major)
    if without_postgis:
        v = without_postgis[0]
        raise ClusterError(
            f"PostgreSQL {v} is installed but PostGIS is not. Install it with:\n"
            f"    sudo apt-get install postgresql-{v}-postgis-3\n"
            "or point DATABASE_URL at a PostGIS server."
        )
    raise ClusterError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found. Install them with:\n"
        "    sudo apt-get install postgresql postgresql-15-postgis-3   # use your PostgreSQL major version\n"
        "or set LANDFUND_PG_BINDIR to their directory, or point DATABASE_URL at a PostGIS server."
    )


def cluster_os_user(configured: str | None) -> pwd.struct_passwd | None:
    """The account the cluster runs as: None means 'whoever runs landfund' (not root)."""
    if os.geteuid() != 0:
        return None
    for name in [configured] if configured else ["postgres", "nobody"]:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise ClusterError(f"OS user {configured!r} does not exist; set LANDFUND_DB_OS_USER to an unprivileged user.")


def traversable_by(path: Path, user: pwd.struct_passwd) -> bool:
    """Can `user` reach `path` (search permission on every ancestor)?"""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for parent in [path, *path.parents]:
        if not parent.exists():
            continue
        st = parent.stat()
        if st.st_uid == user.pw_uid:
            ok = st.st_mode & stat.S_IXUSR
        elif st.st_gid in groups:
            ok = st.st_mode & stat.S_IXGRP
        else:
            ok = st.st_mode & stat.S_IXOTH
        if not ok:
            return False
    return True
