"""The `landfund` command line."""

from __future__ import annotations

import typer

from . import data, db, maps, provinces, serve, users

app = typer.Typer(
    name="landfund",
    help="Land-fund planning for social housing (nhà ở xã hội): PostGIS store, import/export, API and maps.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(users.app, name="users")
app.add_typer(provinces.app, name="province")
app.command("import")(data.import_cmd)
app.command("boundaries")(data.boundaries_cmd)
app.command("export")(data.export_cmd)
app.command("demo")(data.demo_cmd)
app.command("serve")(serve.serve_cmd)
app.command("map")(maps.map_cmd)
app.command("check")(maps.check_cmd)

if __name__ == "__main__":
    app()
