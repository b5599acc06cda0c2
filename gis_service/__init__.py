"""landfund: GIS land-fund planning service for social housing (nhà ở xã hội)."""

__version__ = "0.1.0"
