"""Services: what the API, the pages and the command line do with the land fund, in one place each. A service
takes the caller (a Principal), checks what the caller may do to this record (roles are FastAPI dependencies
in api/deps.py; a planner's unit is checked here against the record), and runs the validator and the stores
inside one transaction.

    edits       create, replace, patch and delete features; status transitions
    lifecycle   the parcel lifecycle and its rules
    interests   investors' expressions of interest
    users       accounts and tokens
"""
