"""Closed-loop load at a fixed concurrency, over HTTP or straight SQL, and A B A B rounds between contenders."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def add(self, other: Sample) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.bytes += other.bytes
        self.seconds += other.seconds

    def summary(self) -> dict:
        ms = sorted(x * 1000 for x in self.latencies)
        if not ms:
            return {"n": 0, "errors": self.errors}
        q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
        return {
            "n": len(ms),
            "errors": self.errors,
            "p50_ms": round(q[49], 1),
            "p95_ms": round(q[94], 1),
            "rps": round(len(ms) / self.seconds, 1) if self.seconds else None,
            "kb_per_response": round(self.bytes / len(ms) / 1024, 1),
        }


async def _http(base: str, paths: list[str], concurrency: int, seconds: float) -> Sample:
    sample = Sample()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        stop = time.monotonic() + seconds

        async def worker(k: int) -> None:
            i = k
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                r = await client.get(paths[i % len(paths)])
                took = time.perf_counter() - t0
                i += concurrency
                if r.status_code not in (200, 204):
                    sample.errors += 1
                    continue
                sample.latencies.append(took)
                sample.bytes += len(r.content)

        t0 = time.monotonic()
        await asyncio.gather(*(worker(k) for k in range(concurrency)))
        sample.seconds = time.monotonic() - t0
    return sample


async def _sql(dsn: str, queries: list[tuple[str, dict]], concurrency: int, seconds: float) -> Sample:
    sample = Sample()
    conns = [await psycopg.AsyncConnection.connect(dsn, autocommit=True) for _ in range(concurrency)]
    try:
        stop = time.monotonic() + seconds

        async def worker(k: int, conn) -> None:
            i = k
            while time.monotonic() < stop:
                q, params = queries[i % len(queries)]
                t0 = time.perf_counter()
                value = (await (await conn.execute(q, params)).fetchone())[0]
                sample.latencies.append(time.perf_counter() - t0)
                sample.bytes += len(value) if value else 0
                i += concurrency

        t0 = time.monotonic()
        await asyncio.gather(*(worker(k, c) for k, c in enumerate(conns)))
        sample.seconds = time.monotonic() - t0
    finally:
        for c in conns:
            await c.close()
    return sample


def http(base: str, paths: list[str]) -> Callable[[int, float], Sample]:
    return lambda concurrency, seconds: asyncio.run(_http(base, paths, concurrency, seconds))


def sql(dsn: str, queries: list[tuple[str, dict]]) -> Callable[[int, float], Sample]:
    return lambda concurrency, seconds: asyncio.run(_sql(dsn, queries, concurrency, seconds))


def ab(
    contenders: dict[str, Callable[[int, float], Sample]], levels: list[int], seconds: float, rounds: int = 2, log=print
) -> dict[int, dict[str, dict]]:
    """For each concurrency: `rounds` rounds, every contender once per round, the order reversed every other
    round (A B C, C B A, …), so drift in the machine falls on all alike. A short warm-up precedes each."""
    out: dict[int, dict[str, dict]] = {}
    names = list(contenders)
    for c in levels:
        pooled = {n: Sample() for n in names}
        for r in range(rounds):
            for n in names if r % 2 == 0 else names[::-1]:
                contenders[n](c, min(1.0, seconds / 4))  # warm-up: connections, caches
                pooled[n].add(contenders[n](c, seconds))
        out[c] = {n: pooled[n].summary() for n in names}
        log(
            f"  concurrency {c}: "
            + "; ".join(
                f"{n} p50 {s.get('p50_ms')} ms, {s.get('rps')}/s, errors {s['errors']}" for n, s in out[c].items()
            )
        )
    return out


def timed(fn, repeat: int = 3) -> tuple[float, object]:
    """Median wall time of `repeat` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


# Forks and execs the command and reports its peak RSS. It runs as a small process of its own because a
# child forked straight from the benchmark (hundreds of MB of Python and data) counts the parent's resident
# pages in its ru_maxrss until it execs: both contenders then "peaked" at the benchmark's own size.
LAUNCHER = """import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
print("LANDFUND_MAXRSS_KB", usage.ru_maxrss, file=sys.stderr)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(
    cmd: list[str], env: dict | None = None, expect: int = 0, stdout: Path | None = None
) -> tuple[float, int, int]:
    """Run a command that should exit with `expect` (its output to `stdout` when given); (wall seconds, peak RSS in
    MB of the process, exit status)."""
    import subprocess
    import sys

    with open(stdout, "wb") if stdout else open(os.devnull, "wb") as sink:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", LAUNCHER, *cmd],
            env={**os.environ, **(env or {})},
            stdout=sink,
            stderr=subprocess.PIPE,
        )
        wall = time.perf_counter() - t0
    err = proc.stderr.decode(errors="replace")
    if proc.returncode != expect:
        raise RuntimeError(f"{cmd[0]} exited {proc.returncode}, not {expect}: {err[-2000:]}")
    kb = int(err.rsplit("LANDFUND_MAXRSS_KB", 1)[1].split()[0])
    return wall, kb // 1024, proc.returncode
