"""mpdb next to @neo4j/graphql serving the same Cypher statements (issue 10): bench/peer/README.md."""
