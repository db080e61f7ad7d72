"""The console's pages, one module per screen; ROUTERS is what mount_console includes."""

from mpdb.console.routes import audit, auth, child, hotspots, search

ROUTERS = [auth.router, search.router, child.router, hotspots.router, audit.router]
