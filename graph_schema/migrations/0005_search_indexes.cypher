// searchChildren / searchPersons (mpdb/services/search.py).
//
// Names: the existing `child_names` and `person_names` full-text indexes (0003) are used as they
// are, with the default analyzer `standard-no-stop-words`. Neo4j's only diacritic-folding analyzer,
// `standard-folding`, also drops English stop words at index time, and "Will", "An", "No" and "Be"
// are given names; so diacritics are folded in the query instead (see the service). Replacing an
// index on the same properties would also need the old one dropped first (Neo4j refuses two
// full-text indexes on one schema), breaking anything else that queries it by name.
//
// Agency references: `sourceRef` is matched exactly against each of these on its own; the 0002
// composite (lacRefLa, lacChildRef) serves a lookup that knows the LA, not one that does not.
CREATE INDEX child_lac_child_ref IF NOT EXISTS FOR (n:Child) ON (n.lacChildRef);
CREATE INDEX child_upn IF NOT EXISTS FOR (n:Child) ON (n.upn);
CREATE INDEX child_source_ref IF NOT EXISTS FOR (n:Child) ON (n.sourceRef);
