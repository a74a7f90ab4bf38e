// An independent verifier of Thư viện số card codes, as a member library's
// scanner or a volunteer's phone would run one: it has nothing but the
// published JWKS document (GET /.well-known/jwks.json) and uses the jose
// library, not this project's code.
//
//   node verify-jose.mjs JWKS_FILE TOKEN
//
// Exit 0 and the claims as JSON on stdout: the code is genuine (EdDSA
// signature by a published key named in "kid"), issued by "thuvienso" for
// "thuvienso-card", within its validity (30 s of clock skew allowed), and
// shows an ACTIVE card that has not expired. Exit 1 and the reason on
// stderr: anything else. Exit 2: wrong usage.
import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, jwtVerify } from 'jose';

const [jwksPath, token] = process.argv.slice(2);
if (!jwksPath || token === undefined) {
  console.error('usage: node verify-jose.mjs JWKS_FILE TOKEN');
  process.exit(2);
}

try {
  const jwks = createLocalJWKSet(JSON.parse(await readFile(jwksPath, 'utf8')));
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer: 'thuvienso',
    audience: 'thuvienso-card',
    algorithms: ['EdDSA'],
    requiredClaims: ['sub', 'iat', 'exp', 'nonce', 'status', 'card_exp', 'pass'],
    clockTolerance: 30,
  });
  const now = Math.floor(Date.now() / 1000);
  if (payload.status !== 'ACTIVE') {
    throw new Error(`the card is ${payload.status}`);
  }
  if (typeof payload.card_exp !== 'number' || payload.card_exp <= now) {
    throw new Error('the card has expired');
  }
  console.log(JSON.stringify({ kid: protectedHeader.kid, ...payload }));
  process.exit(0);
} catch (err) {
  console.error(`refused: ${err.code ?? err.name}: ${err.message}`);
  process.exit(1);
}
