"""The console's pages, one module per screen; ROUTERS is what mount_console includes."""

from mpdb.console.routes import area, auth, duties, search

ROUTERS = [auth.router, search.router, duties.router, area.router]
