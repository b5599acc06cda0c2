"""Declarative base shared by every model; the Alembic migrations create the same schema."""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


from dataclasses import dataclass, field  # noqa: E402


@dataclass(frozen=True)
class StoreSpec:
    """How a catalogue storage kind maps onto its table, for staging, checks and inserts."""

    table: str
    # Input attributes kept as real columns (the rest, for reference layers, go into `properties`).
    columns: tuple[str, ...]
    # Natural key: duplicates are refused within a batch and against the table.
    key: tuple[str, ...] = ()
    spatial: bool = True
    jsonb_properties: bool = False
    extra_stage_columns: dict[str, str] = field(default_factory=dict)
