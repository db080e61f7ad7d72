// Spatial lookups ("what is near this place") and name search.
CREATE POINT INDEX location_point IF NOT EXISTS FOR (n:Location) ON (n.point);
CREATE FULLTEXT INDEX child_names IF NOT EXISTS FOR (n:Child) ON EACH [n.givenName, n.familyName];
CREATE FULLTEXT INDEX person_names IF NOT EXISTS FOR (n:Person) ON EACH [n.name];
CREATE FULLTEXT INDEX place_names IF NOT EXISTS FOR (n:Location|Establishment) ON EACH [n.name];
