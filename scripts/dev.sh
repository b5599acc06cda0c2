#!/usr/bin/env bash
# landfund developer entry point. Safe to run again at any time.
#
#   bash scripts/dev.sh run     set up, start the embedded PostGIS, load the Điện Biên demo, serve the API
#   bash scripts/dev.sh test    set up (with the test tools: GDAL, Chromium) and run the whole test suite
#   bash scripts/dev.sh check   set up and run the lint, format and type checks (ruff, mypy)
#   bash scripts/dev.sh setup   only set up
#
# Setup installs what is missing: Python ≥ 3.11 with venv, PostgreSQL with PostGIS (and, for tests,
# gdal-bin and chromium) through apt-get when run as root (or with password-less sudo); otherwise it
# prints the exact apt-get command to run. Python packages go into ./.venv.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=${1:-run}
shift || true
VENV=$ROOT/.venv
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else return 99; fi
}

apt_install() {
  # apt_install PKG… — install Debian/Ubuntu packages that are not installed yet.
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "apt-get not found; install these yourself: ${missing[*]}"
  say "installing ${missing[*]}"
  # Keep the postgresql packages from creating a system cluster on port 5432: landfund runs its own.
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    as_root mkdir -p /etc/postgresql-common 2>/dev/null \
      && echo "create_main_cluster = false" | as_root tee /etc/postgresql-common/createcluster.conf >/dev/null || true
  fi
  # Nor start the services a package ships (nginx on port 80, pgbouncer): the tests start their own on loopback.
  local policy=/usr/sbin/policy-rc.d ours=no
  if [ ! -e "$policy" ] && printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null 2>&1; then
    as_root chmod 755 "$policy" && ours=yes
  fi
  local rc=0
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
    >/tmp/landfund-apt.log 2>&1 || rc=$?
  [ $rc = 99 ] && die "these packages are missing and I am not root: run  sudo apt-get install ${missing[*]}"
  if [ $rc != 0 ]; then  # stale or empty package lists: refresh once and retry
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >>/tmp/landfund-apt.log 2>&1 \
      || die "apt-get update failed (see /tmp/landfund-apt.log)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" \
      >>/tmp/landfund-apt.log 2>&1 || { [ $ours = yes ] && as_root rm -f "$policy"; die "apt-get install ${missing[*]} failed (see /tmp/landfund-apt.log)"; }
  fi
  [ $ours = yes ] && as_root rm -f "$policy"
  return 0
}

pick_python() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$py"; return 0
    fi
  done
  return 1
}

pg_major() {
  # The newest PostgreSQL server installed, else the one apt would install.
  local v
  v=$(ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sed -E 's#.*/postgresql/([0-9]+)/.*#\1#' | sort -n | tail -1)
  if [ -z "$v" ]; then
    v=$(apt-cache show postgresql 2>/dev/null | sed -nE 's/^Depends:.*postgresql-([0-9]+).*/\1/p' | head -1)
    if [ -z "$v" ]; then as_root apt-get update -q >/dev/null 2>&1 || true
      v=$(apt-cache show postgresql 2>/dev/null | sed -nE 's/^Depends:.*postgresql-([0-9]+).*/\1/p' | head -1); fi
  fi
  echo "$v"
}

setup() {
  local with_tests=${1:-no}
  local py
  if ! py=$(pick_python); then
    apt_install python3 python3-venv python3-pip
    py=$(pick_python) || die "Python ≥ 3.11 with venv is needed (found: $(python3 --version 2>&1))"
  fi
  local v; v=$(pg_major)
  [ -n "$v" ] || die "cannot tell which PostgreSQL version to install; install postgresql and postgresql-<version>-postgis-3"
  # pango and DejaVu fonts: WeasyPrint's PDF reports (Vietnamese diacritics need a font that has them)
  local pkgs=("postgresql-$v" "postgresql-$v-postgis-3" libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
  # the tests drive real GIS clients: GDAL, Chromium, and QGIS through PyQGIS (Debian's python3-qgis); and the read
  # scale-out pieces in front of landfund: nginx as a tile cache, PgBouncer in transaction mode
  [ "$with_tests" = yes ] && pkgs+=(gdal-bin chromium qgis python3-qgis nginx pgbouncer)
  apt_install "${pkgs[@]}"

  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV with $py"
    "$py" -m venv "$VENV"
  fi
  local stamp="$VENV/.landfund-installed" want
  want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing landfund and its Python dependencies into .venv"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e ".[dev]" 2>&1 | grep -v '^WARNING: Location' || true
    "$VENV/bin/python" -c "import gis_service" || die "pip install failed"
    echo "$want" > "$stamp"
  fi
}

case "$MODE" in
  setup) setup yes ;;
  run)
    setup no
    "$VENV/bin/landfund" db start
    "$VENV/bin/landfund" db upgrade
    "$VENV/bin/landfund" demo --accounts
    exec "$VENV/bin/landfund" serve "$@"
    ;;
  test)
    setup yes
    if [ $# -gt 0 ]; then exec "$VENV/bin/python" -m pytest "$@"; fi
    # the fast unit layer first (no database), then everything else on real PostGIS, browsers and GIS clients
    "$VENV/bin/python" -m pytest -q tests/unit
    exec "$VENV/bin/python" -m pytest --ignore=tests/unit
    ;;
  check)
    setup yes
    say "ruff (lint and format) and mypy"
    "$VENV/bin/ruff" check .
    "$VENV/bin/ruff" format --check .
    "$VENV/bin/mypy"
    ;;
  *) die "usage: bash scripts/dev.sh run|test|check|setup" ;;
esac
