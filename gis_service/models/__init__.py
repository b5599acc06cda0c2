"""Database models. Each module keeps the SQL that belongs to its tables."""

from . import admin_units, auth, history, interests, parcels, reference, stats
from .admin_units import AdminUnit
from .auth import ApiToken, User
from .base import Base
from .history import ParcelHistory, StatusTransition
from .interests import Interest
from .parcels import Parcel
from .reference import ReferenceFeature
from .stats import Demand, Programme

SPECS = {
    "parcels": parcels.SPEC,
    "admin_units": admin_units.SPEC,
    "reference": reference.SPEC,
    "demand": stats.DEMAND_SPEC,
    "programmes": stats.PROGRAMMES_SPEC,
}

__all__ = ["AdminUnit", "ApiToken", "Interest", "ParcelHistory", "StatusTransition", "User", "Base", "Demand", "Parcel", "Programme", "ReferenceFeature"]
