"""Reference layers (roads, facilities, hazard zones and any layer added to the catalogue later).

They share one table keyed by layer id; attributes live in `properties` as the catalogue declares them,
so a new reference layer needs a catalogue entry and a file, not a migration.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, DateTime, Index, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, StoreSpec


class ReferenceFeature(Base):
    __tablename__ = "reference_features"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    layer: Mapped[str] = mapped_column(String(64))
    properties: Mapped[dict] = mapped_column(JSONB, server_default="{}")
    geom = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    # What the catalogue says the layer is (road, hazard, facility:<kind>): suitability and the site sheet find
    # features by role, on these partial indexes (migration 0011).
    role: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_reference_features_geom", "geom", postgresql_using="gist"),
        Index("ix_reference_features_layer", "layer"),
        Index("ix_reference_features_role", "role"),
        Index(
            "ix_reference_features_role_road", "geom", postgresql_using="gist", postgresql_where=text("role = 'road'")
        ),
        Index(
            "ix_reference_features_role_hazard",
            "geom",
            postgresql_using="gist",
            postgresql_where=text("role = 'hazard'"),
        ),
        *(
            Index(
                f"ix_reference_features_role_{kind}",
                "geom",
                postgresql_using="gist",
                postgresql_where=text(f"role = 'facility:{kind}'"),
            )
            for kind in ("admin_centre", "school", "health")
        ),
    )


SPEC = StoreSpec(table="reference_features", columns=(), jsonb_properties=True)
