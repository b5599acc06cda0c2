"""Settings, read from the environment (and an optional `.env`) with pydantic-settings.

Every knob has the prefix ``LANDFUND_`` except ``DATABASE_URL``, which keeps its conventional name.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent.parent
# Housing Law 2023 / Decree 100/2024: social-housing apartments are 25–70 m²; a province may raise the
# maximum by up to 10 %.
UNIT_MIN_M2 = 25.0
UNIT_MAX_M2 = 70.0 * 1.10


def _shipped(name: str) -> Path:
    """`layers/` or `maps/`: next to the package in a checkout, inside it when installed from a wheel."""
    in_wheel = PACKAGE_DIR / "_shipped" / name
    if in_wheel.is_dir():
        return in_wheel
    return PACKAGE_DIR.parent / name


class SuitabilityWeights(BaseModel):
    """Relative weights of the suitability criteria; an unknown criterion is an error, never ignored."""

    model_config = ConfigDict(extra="forbid")
    road: float = Field(0.25, ge=0, le=100, description="Distance to the nearest road.")
    town: float = Field(0.20, ge=0, le=100, description="Distance to the administrative centre.")
    school: float = Field(0.15, ge=0, le=100, description="Distance to a school.")
    health: float = Field(0.15, ge=0, le=100, description="Distance to a health facility.")
    area: float = Field(0.10, ge=0, le=100, description="Area within the preferred range.")
    clearance: float = Field(0.15, ge=0, le=100, description="Site clearance done.")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LANDFUND_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "LANDFUND_DATABASE_URL"),
        description="Use this PostgreSQL/PostGIS server; never start the embedded one.",
    )
    database_owner_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_OWNER_URL", "LANDFUND_DATABASE_OWNER_URL"),
        description="Run migrations and operator commands (upgrade, demo, backup) as this role, the owner of the schema; "
        "DATABASE_URL's role then only serves. Default: DATABASE_URL.",
    )
    database_read_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_READ_URL", "LANDFUND_DATABASE_READ_URL"),
        description="Send reads (pages, tiles, maps, analytics) here, e.g. a streaming replica; writes stay on "
        "DATABASE_URL.",
    )
    home: Path = Field(default=Path(".landfund"), description="Where the embedded cluster and state live.")
    db_port: int = Field(default=55432, ge=1024, le=65535, description="Port of the embedded cluster.")
    db_name: str = "landfund"
    db_os_user: str | None = Field(
        default=None, description="Unprivileged OS user that runs the embedded cluster when landfund runs as root."
    )
    layers_dir: Path = Field(default_factory=lambda: _shipped("layers"))
    maps_dir: Path = Field(default_factory=lambda: _shipped("maps"))

    # Dwelling units: the approved 1/500 plan's number when there is one; otherwise estimated as
    # site area × net residential ratio × (1 − commercial share) × FAR × net floor ratio ÷ average unit size
    # (with the defaults, about 130 units per hectare: the province's programme plans 3,890 units on 30 ha).
    net_residential_ratio: float = Field(
        default=0.65,
        gt=0,
        le=1,
        description="Share of a site that becomes residential lots; the rest is roads, green space, parking and "
        "public facilities that a 1/500 plan must provide (QCVN 01:2021/BXD).",
    )
    commercial_share: float = Field(
        default=0.20,
        ge=0,
        lt=1,
        description="Share of a social-housing project's residential land its investor may use for commercial "
        "housing and services (Housing Law 2023, art. 85); those dwellings are not social housing.",
    )
    default_far: float = Field(default=2.0, gt=0, le=20, description="FAR used when a parcel declares none.")
    net_floor_ratio: float = Field(
        default=0.70, gt=0, le=1, description="Share of gross floor area that is apartment floor area."
    )
    avg_unit_m2: float = Field(default=55.0, description="Average social-housing apartment size, m².")

    max_vertices: int = Field(
        default=5_000,
        ge=4,
        le=1_000_000,
        description="Most vertices accepted in one parcel (reference layers set their own in the catalogue). A 5 ha "
        "parcel's boundary is about 1 km: a surveyed vertex every 20 cm is 5,000.",
    )
    overlap_tolerance_m2: float = Field(
        default=1.0, ge=0, description="Overlaps smaller than this (digitising slivers) are not reported."
    )

    max_body_bytes: int = Field(default=10_000_000, ge=1024, description="Largest request body accepted.")
    body_timeout_seconds: float = Field(
        default=30.0, gt=0, le=600, description="Time a client has to send a request body (a slow one gets 408)."
    )
    statement_timeout_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="Longest a request's SQL statement may run before it is stopped (503)."
    )
    lock_timeout_seconds: float = Field(
        default=10.0, gt=0, le=3600, description="Longest a request waits for a row another request has locked (503)."
    )
    shutdown_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=600,
        description="On SIGTERM, how long `landfund serve` lets requests finish before it stops.",
    )
    scope_tolerance_m2: float = Field(
        default=100.0,
        ge=0,
        le=10_000,
        description="How much of a planner's parcel may lie outside their unit (digitising along the boundary), m².",
    )
    tile_max_age: int = Field(default=60, ge=0, description="Cache-Control max-age of vector tiles, seconds.")

    stage_limit_days: dict[str, int] = Field(
        default_factory=lambda: {
            "proposed": 365,
            "programmed": 365,
            "plan_approved": 180,
            "call_published": 365,
            "investor_selected": 180,
            "clearance": 365,
            "land_allocated": 180,
            "under_construction": 730,
        },
        description="Days a parcel may stay in a stage before the bottleneck report lists it (JSON object; the keys are "
        "stages of layers/workflow.yaml, a stage left out has no limit).",
    )
    clearance_limit_days: int = Field(
        default=180, ge=1, description="Days after approval by which site clearance should have started."
    )

    suitability_weights: SuitabilityWeights = Field(
        default_factory=lambda: SuitabilityWeights(),  # type: ignore[call-arg]  # every field has a default
        description="Default weights of the site-suitability criteria (JSON object: road, town, school, health, area, "
        "clearance); requests may override them.",
    )

    map_basemap: str = Field(
        default="osm",
        description="Basemap of the maps: 'osm' (OpenStreetMap tiles), 'none', or an XYZ URL template such as "
        "http://tiles.intranet/{z}/{x}/{y}.png for an intranet tile server.",
    )
    map_basemap_attribution: str = Field(default="", description="Attribution shown for a custom basemap.")
    map_inline_max_features: int = Field(
        default=2000, ge=0, description="Above this many parcels a map loads them as vector tiles, not inline."
    )

    basic_auth_over_http: bool = Field(
        default=False,
        description="Accept HTTP Basic credentials over plain HTTP from other machines too (they are always accepted "
        "over HTTPS and from this machine). Only on a network you trust: Basic sends the password in every request.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins allowed to call the API from a browser: comma-separated "
        "(https://gis.dienbien.gov.vn,http://localhost:8080), a JSON list, or * for any origin (no credentials).",
    )
    db_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        le=60,
        description="Connect and pool-wait timeout: with the database down, requests fail fast (503).",
    )
    db_pooler: Literal["none", "transaction"] = Field(
        default="none",
        description="`transaction` when DATABASE_URL is a pooler in transaction mode (PgBouncer): connections send "
        "no `options` startup parameter and prepare no statement on the server; the session settings come from "
        "the pooler's connect_query (deploy/pgbouncer/pgbouncer.ini), which `landfund serve` checks at start.",
    )

    analytics_parallel_workers: int = Field(
        default=2,
        ge=0,
        le=16,
        description="Parallel workers one suitability ranking may use (0: one core). API "
        "pages and tiles use none: for them launching workers costs more than it saves.",
    )
    analytics_work_mem_mb: int = Field(
        default=64,
        ge=4,
        le=4096,
        description="Memory (MB) a suitability ranking may sort in before it spills to disk: every open site of "
        "a province at 1M parcels sorts in about 25 MB (PostgreSQL's default, 4 MB, writes it to temporary files).",
    )

    session_hours: float = Field(default=12.0, gt=0, le=24 * 30, description="How long a sign-in lasts, hours.")
    password_min_length: int = Field(default=12, ge=8, le=128, description="Shortest password accepted.")
    uploads_dir: Path | None = Field(
        default=None,
        description="Where uploaded files wait for an import to be confirmed (default: LANDFUND_HOME/uploads).",
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="uvicorn worker processes of `landfund serve`; the API "
        "keeps no state of its own, so any number works.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _origins(cls, v):
        """A comma-separated list or a JSON list; each an origin (scheme://host[:port]) or *."""
        import json
        import re

        if isinstance(v, str):
            text = v.strip()
            if text.startswith("["):
                try:
                    v = json.loads(text)
                except ValueError:
                    raise ValueError(f"not a JSON list of origins: {text!r}") from None
            else:
                v = [o.strip() for o in text.split(",") if o.strip()]
        if not isinstance(v, list):
            raise ValueError("a list of origins")
        for o in v:
            if not isinstance(o, str) or not (o == "*" or re.fullmatch(r"https?://[^/\s]+", o)):
                raise ValueError(f"{o!r} is not an origin: scheme://host[:port] without a path, or *")
        return [o.rstrip("/") for o in v]

    @field_validator("avg_unit_m2")
    @classmethod
    def _unit_size_within_law(cls, v: float) -> float:
        if not UNIT_MIN_M2 <= v <= UNIT_MAX_M2:
            raise ValueError(
                f"average unit size {v} m² is outside the social-housing range "
                f"{UNIT_MIN_M2:g}–{UNIT_MAX_M2:g} m² (Decree 100/2024, +10 % provincial allowance)"
            )
        return v

    @model_validator(mode="after")
    def _absolute_paths(self) -> Settings:
        self.home = self.home.expanduser().resolve()
        self.layers_dir = self.layers_dir.expanduser().resolve()
        self.maps_dir = self.maps_dir.expanduser().resolve()
        return self

    @model_validator(mode="after")
    def _known_stages(self) -> Settings:
        """A typo in LANDFUND_STAGE_LIMIT_DAYS must not silently remove a limit."""
        from .vocabulary import load_workflow

        stages = load_workflow(self.layers_dir).stages
        unknown = sorted(set(self.stage_limit_days) - set(stages))
        if unknown:
            raise ValueError(
                f"stage_limit_days: unknown stage(s) {', '.join(unknown)}; the stages are: {', '.join(stages)}"
            )
        bad = {k: v for k, v in self.stage_limit_days.items() if v < 1}
        if bad:
            raise ValueError(f"stage_limit_days: a limit is a number of days of at least 1, not {bad}")
        return self

    @property
    def embedded(self) -> bool:
        return not self.database_url


@lru_cache
def get_settings() -> Settings:
    return Settings()
