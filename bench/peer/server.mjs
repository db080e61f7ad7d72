// The peer: @neo4j/graphql on Apollo Server, serving mpdb's own Cypher statements as @cypher fields.
//
//   node bench/peer/server.mjs <statements.json> <port> [workers]
//
// <statements.json> is written by bench/peer/extract.py from mpdb's code at run time (the statement
// texts, their column and parameter names): nothing here names a statement. Each statement becomes
// one Query field `q<i>s<j>(<param>: Param ...): JSON` whose @cypher statement is mpdb's text inside
// a unit subquery packing its rows into one value (an @cypher field returns one column). No
// authentication, no authorization, no audit: the access scope arrives as ordinary arguments.
// [workers] > 1: that many Node processes share the port (node:cluster), as a Node service uses
// several cores; compare with mpdb run with as many uvicorn workers.
// Environment: NEO4J_URI, NEO4J_USERNAME, NEO4J_PASSWORD, NEO4J_DATABASE.
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { Neo4jGraphQL } from "@neo4j/graphql";
import { GraphQLError, GraphQLScalarType, Kind } from "graphql";
import neo4j from "neo4j-driver";

const [file, portArg, workersArg] = process.argv.slice(2);
if (!file || !portArg) {
  console.error("usage: node server.mjs <statements.json> <port> [workers]");
  process.exit(2);
}
const doc = JSON.parse(readFileSync(file, "utf8"));

// Parameters and rows on the wire keep Neo4j's types through tags (bench/peer/extract.py):
// {"$int": "7"}, {"$dt": [y, mo, d, h, mi, s, ns, offsetSeconds]}, {"$ldt": [...]}, {"$date": [y, mo, d]},
// {"$time": [h, mi, s, ns, offsetSeconds]}, {"$dur": [months, days, seconds, ns]}, {"$point": [srid, x, y(, z)]}.
const T = neo4j.types;
function fromWire(v) {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(fromWire);
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0].startsWith("$")) {
    const a = v[keys[0]];
    switch (keys[0]) {
      case "$int": return neo4j.int(a);
      case "$dt": return new T.DateTime(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
      case "$ldt": return new T.LocalDateTime(...a);
      case "$date": return new T.Date(...a);
      case "$time": return a[4] === null ? new T.LocalTime(a[0], a[1], a[2], a[3]) : new T.Time(...a);
      case "$dur": return new T.Duration(...a);
      case "$point": return new T.Point(...a);
      default: throw new GraphQLError(`unknown tag ${keys[0]}`);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, fromWire(v[k])]));
}

const n = (x) => (neo4j.isInt(x) ? x.toNumber() : x);
function toWire(v) {
  if (v === null || v === undefined) return null;
  if (neo4j.isInt(v)) return v.inSafeRange() ? v.toNumber() : v.toString();
  if (Array.isArray(v)) return v.map(toWire);
  if (typeof v !== "object") return v;
  if (neo4j.isDateTime(v)) {
    const p = [v.year, v.month, v.day, v.hour, v.minute, v.second, v.nanosecond].map(n);
    return v.timeZoneOffsetSeconds === undefined || v.timeZoneOffsetSeconds === null
      ? { $dt: [...p, v.timeZoneId] } : { $dt: [...p, n(v.timeZoneOffsetSeconds)] };
  }
  if (neo4j.isLocalDateTime(v)) return { $ldt: [v.year, v.month, v.day, v.hour, v.minute, v.second, v.nanosecond].map(n) };
  if (neo4j.isDate(v)) return { $date: [v.year, v.month, v.day].map(n) };
  if (neo4j.isTime(v)) return { $time: [v.hour, v.minute, v.second, v.nanosecond, v.timeZoneOffsetSeconds].map(n) };
  if (neo4j.isLocalTime(v)) return { $time: [v.hour, v.minute, v.second, v.nanosecond].map(n).concat([null]) };
  if (neo4j.isDuration(v)) return { $dur: [v.months, v.days, v.seconds, v.nanoseconds].map(n) };
  if (neo4j.isPoint(v)) {
    const c = [n(v.srid), v.x, v.y];
    return { $point: v.z === undefined ? c : c.concat([v.z]) };
  }
  return Object.fromEntries(Object.keys(v).map((k) => [k, toWire(v[k])]));
}

function literal(ast) {
  switch (ast.kind) {
    case Kind.STRING: case Kind.BOOLEAN: return ast.value;
    case Kind.INT: return neo4j.int(ast.value);
    case Kind.FLOAT: return parseFloat(ast.value);
    case Kind.NULL: return null;
    case Kind.LIST: return ast.values.map(literal);
    case Kind.OBJECT: return fromWire(Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value)])));
    default: throw new GraphQLError("Param: variables only");
  }
}

const resolvers = {
  JSON: new GraphQLScalarType({
    name: "JSON",
    description: "A value as Neo4j returned it, in the tagged wire form",
    serialize: toWire,
  }),
  Param: new GraphQLScalarType({
    name: "Param",
    description: "A Cypher parameter in the tagged wire form",
    parseValue: fromWire,
    parseLiteral: literal,
  }),
};

// A GraphQL string literal holding the statement verbatim.
const quote = (s) => '"""' + s.replaceAll("\\", "\\\\").replaceAll('"""', '\\"""') + '"""';
const fields = [];
for (const q of doc.queries) {
  for (const s of q.statements) {
    const args = s.params.map((p) => `${p}: Param`).join(", ");
    fields.push(`  # ${q.name}: ${s.constant}\n  ${s.field}${args ? `(${args})` : ""}: JSON\n`
      + `    @cypher(statement: ${quote(s.statement)}, columnName: "rows")`);
  }
}
const typeDefs = `scalar JSON\nscalar Param\n\ntype Query {\n${fields.join("\n")}\n}\n`;

async function serve() {
  const driver = neo4j.driver(
    process.env.NEO4J_URI ?? "bolt://127.0.0.1:7687",
    neo4j.auth.basic(process.env.NEO4J_USERNAME ?? "neo4j", process.env.NEO4J_PASSWORD ?? ""),
  );
  const database = process.env.NEO4J_DATABASE ?? "neo4j";
  const neoSchema = new Neo4jGraphQL({ typeDefs, resolvers, driver });
  const schema = await neoSchema.getSchema();
  const server = new ApolloServer({ schema, introspection: false });
  const { url } = await startStandaloneServer(server, {
    listen: { port: Number(portArg), host: "127.0.0.1" },
    context: async () => ({ sessionConfig: { database } }),
  });
  console.log(`peer ready at ${url} (${fields.length} @cypher fields)`);
  for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, async () => {
      await server.stop();
      await driver.close();
      process.exit(0);
    });
  }
}

// Several processes on one port (node:cluster): the primary only forks and forwards signals.
const workers = Number(workersArg ?? 1);
if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("exit", (w, code) => {
    if (code) {
      console.error(`peer worker exited with ${code}`);
      process.exit(1);
    }
  });
  for (const sig of ["SIGTERM", "SIGINT"]) {
    process.on(sig, () => {
      for (const w of Object.values(cluster.workers)) w.kill(sig);
      process.exit(0);
    });
  }
} else {
  await serve();
}
