"""`landfund map NAME --out FILE.html`: write a map as a static page that works with no internet."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.markup import escape

from ..core.config import get_settings
from ..core.errors import LandfundError
from .common import check_province, db_url, err, out, user_errors


def map_cmd(
    name: str = typer.Argument(..., help="planner, investor or site (with --parcel)."),
    out_file: Path = typer.Option(..., "--out", "-o", help="The HTML file to write."),
    lang: str = typer.Option("vi", "--lang", help="vi (default) or en."),
    admin_unit: str | None = typer.Option(None, "--admin-unit", help="Only this unit (GSO code)."),
    status: str | None = typer.Option(None, "--status", help="Comma-separated parcel statuses."),
    as_of: str | None = typer.Option(None, "--as-of", help="Date for the administrative units, YYYY-MM-DD."),
    parcel: int | None = typer.Option(None, "--parcel", help="The parcel id, for the site sheet."),
    api_url: str | None = typer.Option(
        None, "--api-url", help="A running landfund API: adds links, API search and, for big land funds, vector tiles."
    ),
    public: bool = typer.Option(False, "--public", help="What an anonymous visitor sees (published parcels only)."),
    province: str | None = typer.Option(
        None, "--province", help="GSO code of the province the map is of (default: this deployment's own)."
    ),
) -> None:
    """Write a map as static HTML. Its scripts, styles and images are copied next to it (FILE_files/), so
    it opens with no internet; parcels are inline unless --api-url is given and there are many."""
    from ..catalogue import get_catalogue  # the map's modules load when it is drawn, not for `landfund --help`
    from ..core.db import pg_connect
    from ..core.vocabulary import LANGS
    from ..maps.definition import load_map, map_names
    from ..security import ANONYMOUS, Principal

    with user_errors():
        settings = get_settings()
        if name not in map_names(settings.maps_dir):
            raise LandfundError(f"no map {name!r}; maps: {', '.join(map_names(settings.maps_dir))}")
        if (name == "site") != (parcel is not None):
            raise LandfundError("the site map needs --parcel ID, and only it takes one")
        if lang not in LANGS:
            raise LandfundError(f"--lang: one of {', '.join(LANGS)}")
        try:
            when = date.fromisoformat(as_of) if as_of else None
        except ValueError:
            raise LandfundError(f"--as-of: {as_of!r} is not a date (YYYY-MM-DD)") from None
        statuses = [s.strip() for s in status.split(",") if s.strip()] if status else []
        out_file = out_file.resolve()
        folder = out_file.with_name(out_file.stem + "_files")
        who = ANONYMOUS if public else Principal("admin", name="cli")
        with pg_connect(db_url()) as conn:
            if province is not None:
                check_province(conn, province)
            from ..maps import data  # folium and friends load only when a map is made
            from ..maps.assets import check_offline, copy_assets
            from ..maps.build import render

            ctx = data.Context(
                conn,
                settings,
                get_catalogue(settings),
                who,
                lang,
                data.Filters(admin_unit, statuses, when),
                api_base=api_url.rstrip("/") if api_url else None,
                asset_base=folder.name,
                parcel_id=parcel,
                province=province,
            )
            page, fig = render(ctx, load_map(settings.maps_dir, name))
        for note in ctx.notes:
            err.print(f"[bold yellow]warning:[/] {note}", soft_wrap=True)
        check_offline(page)
        out_file.parent.mkdir(parents=True, exist_ok=True)
        copy_assets(fig.used, folder)
        out_file.write_text(page, encoding="utf-8")
        out.print(f"Wrote {out_file} ({len(page.encode()):,} bytes) and its assets in {folder.name}/")


def check_cmd() -> None:
    """Check the settings, the layer catalogue, the workflow and every map definition (maps/*.yaml) against the
    catalogue; each mistake is named with its file and line. The service runs the same checks when it starts."""
    from ..catalogue import get_catalogue
    from ..maps.check import check_maps
    from ..maps.definition import map_names

    with user_errors():
        settings = get_settings()
        catalogue = get_catalogue(settings)
        problems = check_maps(settings.maps_dir, catalogue)
        for p in problems:
            err.print(f"[bold red]error:[/] {escape(p)}", soft_wrap=True)
        if problems:
            raise typer.Exit(1)
        out.print(
            f"Settings, the catalogue ({len(catalogue.layers)} layers), the workflow "
            f"({len(catalogue.workflow.stages)} stages) and {len(map_names(settings.maps_dir))} map definitions "
            "are valid."
        )
