"""Which places are private: someone's home, a foster home, an address. Their exact name and
coordinates go only to a caller entitled to the child who was there; anyone else sees the ~500 m
grid cell (mpdb/domain/geo.py). Same set as the hot spots' analyst view (intel/hotspots.py)."""

from __future__ import annotations

PRIVATE_PLACE_KINDS: frozenset[str] = frozenset({"residence", "foster_home", "address"})
