"""Bulk loading through Neo4j's offline importer (`neo4j-admin database import full`).

- `csvgraph`: node and relationship CSV files in neo4j-admin's format, typed from the values.
- `derive`: the derived data the transactional paths compute in Cypher (access lists, hot-spot
  buckets), computed in Python from the same rows before import.
- `synthetic`: the synthetic generator's data set as those files (`mpdb seed`).
- `agency`: an agency's first load of its history from the import CSV formats (`mpdb load`).
- `run`: stop the local server, import, swap the store in, restart, migrate, wait for indexes.
"""
