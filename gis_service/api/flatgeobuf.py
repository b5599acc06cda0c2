"""FlatGeobuf downloads written by GDAL (through pyogrio's Arrow writer), fed from a server-side cursor.

PostGIS 3.3.2's ST_AsFlatGeobuf numbers a feature's properties by how many it has written rather than by
column, so every value after a NULL lands under the wrong column and readers fail with "Fatal error parsing
feature". GDAL's writer is the reference implementation of the format; rows stream to it in batches, so
memory stays flat however large the layer, and the file (with its spatial index) is built in a temporary
file that is deleted once sent.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import psycopg
import pyarrow as pa
import pyogrio
from sqlalchemy.sql import Select

from ..catalogue import LayerDef
from ..core.db import API_SESSION_OPTIONS, psycopg_sql

BATCH = 5_000
ARROW_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
}
WKB = {b"ARROW:extension:name": b"geoarrow.wkb"}


def schema(layer: LayerDef, properties: list[str]) -> pa.Schema:
    fields = [pa.field("id", pa.int64(), nullable=False)]
    fields += [pa.field(n, ARROW_TYPES[layer.attribute(n).type]) for n in properties]
    return pa.schema([*fields, pa.field("geometry", pa.binary(), metadata=WKB)])


def write(
    dsn: str,
    stmt: Select,
    layer: LayerDef,
    properties: list[str],
    srid: int,
    timeout: float,
    options: str = API_SESSION_OPTIONS,
) -> Path:
    """Run `stmt` (rows: id, the properties in order, WKB) and write them to a new FlatGeobuf file."""
    text, params = psycopg_sql(stmt)
    sch = schema(layer, properties)
    fd, name = tempfile.mkstemp(prefix="landfund-", suffix=".fgb")
    os.close(fd)
    path = Path(name)
    try:
        with (
            psycopg.connect(
                dsn, connect_timeout=max(1, int(timeout)), application_name="landfund-api", options=options
            ) as conn,
            conn.cursor(name="landfund_fgb") as cur,
        ):
            cur.execute(text, params)

            def batches():
                while rows := cur.fetchmany(BATCH):
                    columns = list(zip(*rows))
                    yield pa.record_batch([pa.array(c, type=f.type) for c, f in zip(columns, sch)], schema=sch)

            path.unlink()  # GDAL creates the file itself
            pyogrio.write_arrow(
                pa.RecordBatchReader.from_batches(sch, batches()),
                path,
                layer=layer.id,
                driver="FlatGeobuf",
                geometry_name="geometry",
                geometry_type="MultiPolygon" if layer.geometry_type == "MultiPolygon" else "Unknown",
                crs=f"EPSG:{srid}",
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
