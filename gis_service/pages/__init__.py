"""The application people use in a browser: sign-in, the home page, the land-fund list, a parcel's page, the
forms that add, adjust and move land through its stages, bulk imports, the interests inbox.

Server-rendered with Jinja2 (autoescaped: a value is never template source), Vietnamese first and English with
?lang=en, usable on a phone, working with no internet (every script and style is served by landfund). The rules
are the API's: the same dependencies decide who may do what (api/deps.py), the same services and validator
write (services/), the same stores read."""

from fastapi import FastAPI


def install(app: FastAPI) -> None:
    """Add the pages to the application: their routes (before the API's, whose paths some share), the HTML views
    of the OGC API laid out like every other page, and errors shown as pages to people."""
    from . import editor, errors, home, imports, inbox, investors, listing, parcel, render, reports

    for module in (home, listing, imports, editor, parcel, inbox, reports, investors):
        app.include_router(module.router)
    app.state.html_page = render.ogc_page
    app.state.page_error = errors.error_page
    app.state.home_page = home.home_page
    app.state.navigation = render.navigation
