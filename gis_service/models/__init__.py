"""Database models. Each module keeps the SQL that belongs to its tables."""

from . import admin_units, parcels, reference, stats
from .admin_units import AdminUnit, FormerUnit, ProvinceRecord
from .auth import ApiToken, FeatureRead, LoginFailure, Session, User
from .base import Base
from .history import Decision, Document, ParcelHistory, Status, StatusTransition
from .interests import Interest
from .parcels import Parcel, ParcelMeasure
from .reference import ReferenceFeature
from .stats import Demand, Programme

SPECS = {
    "parcels": parcels.SPEC,
    "admin_units": admin_units.SPEC,
    "reference": reference.SPEC,
    "demand": stats.DEMAND_SPEC,
    "programmes": stats.PROGRAMMES_SPEC,
    "former_units": admin_units.FORMER_SPEC,
}

__all__ = [
    "AdminUnit",
    "ApiToken",
    "Base",
    "Decision",
    "Demand",
    "Document",
    "FeatureRead",
    "FormerUnit",
    "Interest",
    "LoginFailure",
    "Parcel",
    "ParcelHistory",
    "ParcelMeasure",
    "Programme",
    "ProvinceRecord",
    "ReferenceFeature",
    "Session",
    "Status",
    "StatusTransition",
    "User",
]
