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

    __table_args__ = (
        Index("ix_reference_features_geom", "geom", postgresql_using="gist"),
        Index("ix_reference_features_layer", "layer"),
        Index("ix_reference_features_roads", "geom", postgresql_using="gist", postgresql_where=text("layer = 'roads'")),
        Index("ix_reference_features_facilities", "geom", postgresql_using="gist",
              postgresql_where=text("layer = 'facilities'")),
        Index("ix_reference_features_hazards", "geom", postgresql_using="gist",
              postgresql_where=text("layer = 'hazard_zones'")),
        *(Index(f"ix_reference_features_{kind}", "geom", postgresql_using="gist",
                postgresql_where=text(f"layer = 'facilities' AND (properties ->> 'kind') = '{kind}'"))
          for kind in ("admin_centre", "school", "health")),
    )


SPEC = StoreSpec(table="reference_features", columns=(), jsonb_properties=True)
