"""Which places are private by default: someone's home, a foster home, an address, a semi-independent flat.
The set in force is `[sharing] private_place_kinds` in auth/policy.toml (AccessScope.private_place_kinds),
whose default this is.
Their exact name and coordinates go only to a caller entitled to an episode there (or the child who
was there); anyone else sees the ~500 m grid cell (mpdb/domain/geo.py). One set for every query that
shows places (hot spots, link evidence): docs/ACCESS.md, private places.

Children's homes and secure units are registered establishments (an Ofsted URN, known to the host
force) and stay named. Semi-independent accommodation is often a single flat, registered with
Ofsted only since October 2023 and usually without an establishment record here, so it is private.
"""

from __future__ import annotations

PRIVATE_PLACE_KINDS: frozenset[str] = frozenset({"residence", "foster_home", "address", "semi_independent"})
