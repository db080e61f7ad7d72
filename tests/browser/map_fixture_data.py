"""The API answers behind tests/browser/fixtures/map.html's JSON islands (kept equal by a test)."""

HOTSPOTS = {
    "area": "E23000032", "areaName": "Kent Police", "suppressionThreshold": 3,
    "nodes": [
        {"id": "g500:31418:25191", "rank": 1, "cells": ["g500:31418:25191", "g500:31418:25192"],
         "children": 12, "episodes": 15, "suppressed": False,
         "place": {"id": "loc-1", "name": "Oakfield House", "kind": "childrens_home",
                   "latitude": 51.2771, "longitude": 1.0795}},
        {"id": "g500:31389:25234", "rank": 2, "cells": ["g500:31389:25234"],
         "children": 5, "episodes": 9, "suppressed": True,  # previous period withheld, counts shown
         "place": {"id": "loc-2", "name": "Ashford International", "kind": "transport_hub",
                   "latitude": 51.1435, "longitude": 0.8753}},
        {"id": "g500:31417:25117", "rank": 3,
         "cells": ["g500:31417:25117", "g500:31416:25118", "g500:31416:25119"],
         "children": 3, "episodes": 4, "suppressed": False,
         "place": {"id": None, "name": None, "kind": "residence", "latitude": 51.2718, "longitude": 0.5293}},
        {"id": "g500:31385:25305", "rank": 4, "cells": ["g500:31385:25305"],
         "children": None, "episodes": None, "suppressed": True, "place": None},
        {"id": "g500:31375:25309", "rank": 5, "cells": ["g500:31375:25309"],
         "children": None, "episodes": None, "suppressed": True, "place": None},
    ],
}

FOUND_BEFORE = [
    {"episodeId": "ep-3", "foundAt": "2026-10-02T21:15:00+00:00", "foundBy": "E23000032",
     "place": {"id": "loc-2", "name": "Ashford International", "kind": "transport_hub",
               "latitude": 51.1435, "longitude": 0.8753}},
    {"episodeId": "ep-2", "foundAt": "2026-08-30T09:00:00+00:00", "foundBy": "E23000001",
     "place": {"id": "loc-7", "name": "Stratford bus station", "kind": "transport_hub",
               "latitude": 51.5418, "longitude": -0.0031}},
    {"episodeId": "ep-1", "foundAt": "2026-07-14T18:40:00+00:00", "foundBy": "E23000032",
     "place": {"id": "loc-2", "name": "Ashford International", "kind": "transport_hub",
               "latitude": 51.1435, "longitude": 0.8753}},
]
