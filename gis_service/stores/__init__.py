"""Stores: all the SQL of landfund, one module per table family (in the spirit of pygeoapi's providers and tipg's
collections). Each store wraps one psycopg connection handed out by core.database.Database and never opens a
transaction of its own unless its method says so: the service calling it decides what is atomic.

    parcels      the land fund: staged checks, inserts and updates, locks, scope, the site sheet's geometry
    staging      temporary tables a batch is COPYed into before it is checked and written
    features     every catalogue layer as one selectable (LayerSQL), and the API's reads of them
    writes       stored features as the edit service sees them (entity tag, record, delete)
    reads        the version of each feature a desktop editor last read (their writes carry no If-Match)
    admin_units  administrative units with their validity dates
    reference    reference layers: the nearest road and facilities of a parcel
    history      the append-only history of parcels, and who is writing
    interests    investors' expressions of interest
    users        users, tokens
    analytics    coverage, bottlenecks and suitability
    maintenance  what the demo and imports do to whole tables (truncate, analyse)
"""

from .base import Store, compiled, run

__all__ = ["Store", "compiled", "run"]
