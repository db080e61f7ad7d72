"""The console's pages, one module per screen; ROUTERS is what mount_console includes."""

from mpdb.console.routes import alerts, area, audit, auth, child, duplicates, duties, hotspots, search

ROUTERS = [auth.router, search.router, child.router, hotspots.router, audit.router, duties.router, area.router,
           duplicates.router, alerts.router]
