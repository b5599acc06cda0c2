"""Folium maps rendered from the declarative definitions in `maps/`."""
