"""What landfund's sessions need from a pooler in transaction mode (PgBouncer): the settings landfund sends as the
`options` startup parameter when it connects directly, set instead by the pooler's connect_query on every server
connection (deploy/pgbouncer/pgbouncer.ini)."""

from __future__ import annotations


def expected(settings) -> dict[str, str]:
    """name → value (base unit: ms) of each setting the API's sessions run with."""
    return {
        "jit": "off",
        "max_parallel_workers_per_gather": "0",
        "statement_timeout": str(int(settings.statement_timeout_seconds * 1000)),
        "lock_timeout": str(int(settings.lock_timeout_seconds * 1000)),
    }


def connect_query(settings) -> str:
    """The connect_query of the pooler's database entry that gives landfund's sessions their settings."""
    return "; ".join(f"SET {k} = {v}" for k, v in expected(settings).items())


def problems(found: dict[str, str], settings) -> list[str]:
    """What differs between the settings a pooled session found and those landfund needs."""
    return [
        f"{name} is {found.get(name, 'unset')}, not {want}"
        for name, want in expected(settings).items()
        if found.get(name) != want
    ]
