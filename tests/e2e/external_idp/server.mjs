// Starts oauth2-mock-server (a third-party OAuth2/OIDC server) for mpdb's interop test.
// Env: MOCK_CLIENT_CLAIMS = JSON {client_id: {extra claims}}. Prints one JSON line when ready.
import { createInterface } from 'node:readline';
import { OAuth2Server, Events } from 'oauth2-mock-server';

const clientClaims = JSON.parse(process.env.MOCK_CLIENT_CLAIMS ?? '{}');
const server = new OAuth2Server();
await server.issuer.keys.generate('RS256');
await server.issuer.keys.generate('ES256'); // the server rotates between its keys per token

function clientIdOf(req) {
  const auth = req.headers.authorization ?? '';
  if (auth.toLowerCase().startsWith('basic ')) {
    return Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[0];
  }
  return req.body?.client_id;
}

server.service.on(Events.BeforeTokenSigning, (token, req) => {
  const clientId = clientIdOf(req);
  token.payload.sub = clientId;
  token.payload.azp = clientId;
  Object.assign(token.payload, clientClaims[clientId] ?? {});
});

await server.start(0, '127.0.0.1');
const port = server.address().port;
server.issuer.url = `http://127.0.0.1:${port}`;
process.stdout.write(JSON.stringify({ issuer: server.issuer.url, port }) + '\n');

const stop = async () => { await server.stop(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop); // exit with the test process
// "rotate\n" on stdin: replace every signing key with a new one under the SAME kid (as some
// providers rotate), then print {"rotated": [kids]}.
createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line.trim() !== 'rotate') return;
  const kids = [];
  for (const { kid, alg } of server.issuer.keys.toJSON()) {
    await server.issuer.keys.generate(alg, { kid });
    kids.push(kid);
  }
  process.stdout.write(JSON.stringify({ rotated: kids }) + '\n');
});
