"""`landfund import`, `landfund export` and `landfund demo`."""

from __future__ import annotations

import contextlib
from pathlib import Path

import typer

from ..core.config import get_settings
from ..core.db import pg_connect
from ..ingest.formats import FORMATS
from .common import check_province, db_url, err, isatty, out, owner_url, print_json, user_errors


@contextlib.contextmanager
def progress_bars(enabled: bool):
    """A factory of rich progress bars (phase, total) → advance(n); silent when not on a terminal."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description:>10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bars:

        def factory(phase: str, total: int):
            task = bars.add_task(phase, total=total)
            return lambda n: bars.advance(task, n)

        yield factory


def import_cmd(
    file: Path = typer.Argument(
        ..., help="GeoJSON, Shapefile (.shp or zipped), GeoPackage, CSV with a WKT column, or GeoParquet."
    ),
    layer: str = typer.Option("parcels", "--layer", "-l", help="Catalogue layer to load into."),
    crs: str | None = typer.Option(
        None, "--crs", help="CRS of the coordinates when the file has none (or to override it), e.g. EPSG:9205."
    ),
    mapping: list[str] = typer.Option([], "--map", help="Rename columns: SRC=FIELD[,SRC=FIELD…]; repeatable."),
    map_file: Path | None = typer.Option(None, "--map-file", help="YAML/JSON file of 'source column: field' pairs."),
    swap_xy: bool = typer.Option(False, "--swap-xy", help="Swap x and y (files that store northing in X)."),
    source_layer: str | None = typer.Option(None, "--source-layer", help="Layer inside a multi-layer file."),
    allow_overlap: bool = typer.Option(False, "--allow-overlap", help="Accept parcels that overlap reserved ones."),
    keep_status: bool = typer.Option(
        False,
        "--keep-status",
        help="Parcels: keep the statuses the file states (an "
        "existing land fund); recorded in history. Without it new parcels start as proposed.",
    ),
    province: str | None = typer.Option(
        None,
        "--province",
        help="A province loaded beside this deployment's (its GSO code): the rows are checked against its "
        "outline and units, and parcels written into its partition. Default: this deployment's province.",
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check everything, write nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON on stdout."),
) -> None:
    """Import a file into a layer. All-or-nothing: any bad row writes nothing and exits 1.

    Columns named like the fields (or a known Vietnamese alias: so_to, so_thua, loai_dat, …) map by
    themselves; --map renames the rest. Coordinates are reprojected to EPSG:4326 with pyproj.
    """
    # the heavy modules (GDAL, pandas, SQLAlchemy) load when a command runs, not for `landfund --help`
    from ..catalogue import get_catalogue
    from ..ingest.load import import_file
    from ..ingest.read import parse_mapping, read_mapping_file
    from ..stores.provinces import ProvinceStore
    from ..validation import ValidationFailed

    with user_errors():
        settings = get_settings()
        catalogue = get_catalogue(settings)
        explicit = read_mapping_file(map_file) if map_file else {}
        explicit.update(parse_mapping(mapping))
        url = db_url()
        with pg_connect(url) as conn, progress_bars(isatty() and not as_json) as bars:
            if province is not None:
                catalogue = catalogue.for_province(
                    ProvinceStore(conn).described(catalogue, check_province(conn, province))
                )
            try:
                result = import_file(
                    conn,
                    catalogue,
                    settings,
                    file,
                    layer,
                    crs=crs,
                    mapping=explicit,
                    swap_xy=swap_xy,
                    source_layer=source_layer,
                    dry_run=dry_run,
                    allow_overlap=allow_overlap,
                    keep_status=keep_status,
                    progress=bars,
                )
            except ValidationFailed as exc:
                if as_json:
                    print_json({"written": 0, **exc.report.as_dict()})
                raise
        for w in result.warnings:
            err.print(f"[yellow]warning:[/] {w}", soft_wrap=True)
        if as_json:
            print_json({"written": len(result.ids), "dry_run": dry_run, **result.report.as_dict()})
            return
        src = crs_note(result)
        if dry_run:
            out.print(
                f"Dry run: all {result.rows} row(s) of {file} are valid for layer {layer}{src}; nothing was written."
            )
        else:
            out.print(f"Imported {len(result.ids)} row(s) from {file} into layer {layer}{src}.")


def boundaries_cmd(
    file: Path = typer.Argument(
        ..., help="The legal boundaries: Shapefile, GeoPackage, GeoJSON … of the units in force."
    ),
    crs: str | None = typer.Option(None, "--crs", help="CRS when the file has none, e.g. EPSG:9205 (VN-2000)."),
    mapping: list[str] = typer.Option([], "--map", help="Rename columns: SRC=FIELD (e.g. MaXa=code); repeatable."),
    source_layer: str | None = typer.Option(None, "--source-layer", help="Layer inside a multi-layer file."),
    note: str | None = typer.Option(None, "--note", help="The boundary note the units get (default: names the file)."),
    reassign: bool = typer.Option(
        False, "--reassign", help="Record the commune that now holds each parcel that moved (written to history)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check everything, write nothing."),
) -> None:
    """Replace the schematic boundaries with the province's legal ones (hồ sơ địa giới hành chính), by GSO code.

    Every commune and ward in force must be in the file (the province's outline too, ideally); a bad row writes
    nothing and exits 1. Lists the parcels whose recorded commune no longer holds them."""
    import psycopg

    from ..catalogue import get_catalogue
    from ..ingest.boundaries import replace_boundaries
    from ..ingest.read import parse_mapping

    with user_errors():
        settings = get_settings()
        catalogue = get_catalogue(settings)
        # the owner: the units are the province's reference data
        with pg_connect(owner_url()) as conn, conn.transaction() as tx:
            result = replace_boundaries(
                conn,
                catalogue,
                settings,
                file,
                crs=crs,
                mapping=parse_mapping(mapping),
                source_layer=source_layer,
                note=note,
                reassign=reassign,
                dry_run=dry_run,
            )
            if dry_run:
                raise psycopg.Rollback(tx)
        for w in result.warnings:
            err.print(f"[yellow]warning:[/] {w}", soft_wrap=True)
        if dry_run:
            out.print(
                f"Dry run: the boundaries of {len(result.replaced)} unit(s) in {file} are valid; nothing was written."
            )
            return
        out.print(f"Replaced the boundaries of {len(result.replaced)} unit(s) from {file}.")
        for _pid, code, was, now in result.moved:
            out.print(
                f"  parcel {code}: recorded in {was}, now in {now}" + (" (reassigned)" if result.reassigned else "")
            )
        if result.moved and not result.reassigned:
            out.print(
                f"{len(result.moved)} parcel(s) now lie in another commune; run again with --reassign to record it."
            )


def crs_note(result) -> str:
    from ..crs import label

    if result.source.source_crs is None:
        return ""
    return f" (coordinates read in {label(result.source.source_crs)}, stored in EPSG:4326)"


def export_cmd(
    out_path: Path = typer.Argument(..., metavar="OUT", help="Output file (for Shapefiles, .shp or .zip)."),
    layer: str = typer.Option("parcels", "--layer", "-l", help="Catalogue layer to export."),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help=f"One of: {', '.join(FORMATS)} (default: from OUT's extension)."
    ),
    crs: str | None = typer.Option(None, "--crs", help="Reproject to this CRS, e.g. EPSG:9205 (default EPSG:4326)."),
    public: bool = typer.Option(False, "--public", help="Only published parcels and public fields."),
    province: str | None = typer.Option(
        None, "--province", help="Only this province's parcels (GSO code); default: every province the database holds."
    ),
) -> None:
    """Export a layer. Exporting and importing into an empty database gives back the same rows."""
    from ..catalogue import get_catalogue
    from ..ingest.export import read_layer, write_frame

    with user_errors():
        settings = get_settings()
        catalogue = get_catalogue(settings)
        layer_def = catalogue.layer(layer)
        fmt = fmt or _format_from_name(out_path)
        with pg_connect(db_url()) as conn:
            if province is not None:
                check_province(conn, province)
            frame = read_layer(conn, layer_def, settings, public_only=public, province=province)
        write_frame(frame, layer_def, out_path, fmt, crs)
        out.print(f"Exported {len(frame)} row(s) of layer {layer} to {out_path} ({fmt}{', ' + crs if crs else ''}).")


def _format_from_name(path: Path) -> str:
    name = path.name.lower()
    for ext, fmt in (
        (".geojson", "geojson"),
        (".json", "geojson"),
        (".gpkg", "gpkg"),
        (".shp", "shp"),
        (".zip", "shp"),
        (".csv", "csv"),
        (".parquet", "parquet"),
    ):
        if name.endswith(ext):
            return fmt
    from ..core.errors import LandfundError

    raise LandfundError(f"cannot tell the format from {path.name!r}; pass --format ({', '.join(FORMATS)})")


def _demo_accounts(settings) -> None:
    """Accounts to try the demo with (only when there are no users yet), their passwords printed once and kept in
    LANDFUND_HOME/demo-accounts.txt (readable by its owner only)."""
    import os

    from ..services.users import demo_accounts

    with pg_connect(db_url()) as conn:
        made = demo_accounts(conn, settings.password_min_length)
    path = settings.home / "demo-accounts.txt"
    if not made:  # a second run: the accounts exist (and their passwords were printed the first time)
        if path.exists():
            out.print(f"Demo accounts and their passwords: {path} (sign in at /login).")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{name}\t{password}\t{role}{' ' + unit if unit else ''}" for name, role, unit, password in made]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(
            "# landfund demo accounts: name, password, role and unit. Sign in at /login.\n" + "\n".join(lines) + "\n"
        )
    out.print(f"Demo accounts (sign in at /login; also in {path}):")
    for line in lines:
        out.print("  " + line.replace("\t", "  "), markup=False)


def demo_cmd(
    replace: bool = typer.Option(False, "--replace", help="Empty every land-fund table first, then load the demo."),
    accounts: bool = typer.Option(
        False,
        "--accounts",
        help="Also create demo accounts with random passwords (an "
        "admin, a province and a commune planner, an investor) if there are no users yet.",
    ),
) -> None:
    """Load the shipped Điện Biên demo data (schematic boundaries, illustrative figures).

    Safe to run twice: a database that already holds data is left alone unless --replace is given."""
    from ..catalogue import get_catalogue
    from ..ingest import demo as demo_mod

    with user_errors():
        settings = get_settings()
        catalogue = get_catalogue(settings)
        with pg_connect(owner_url()) as conn:  # the owner: --replace empties every table, history included
            loaded = demo_mod.load_demo(conn, catalogue, settings, replace=replace)
        if loaded is None:
            out.print("The database already holds data; the demo was not loaded (use --replace to wipe and reload).")
        else:
            for layer_id, n in loaded.items():
                out.print(f"  {layer_id:<14} {n:>6} row(s)")
            out.print("Điện Biên demo loaded (schematic boundaries, not legal boundaries).")
        if accounts:
            _demo_accounts(settings)
