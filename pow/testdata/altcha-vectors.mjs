// Writes altcha-vectors.json with ALTCHA's own reference library, so that
// the Go implementation is checked against it rather than against itself.
//
//   npm install altcha-lib@1.4.1 && node altcha-vectors.mjs > altcha-vectors.json
import { createChallenge, verifySolution } from 'altcha-lib';

const hmacKey = 'reportline test key, 32 bytes or more';
const cases = [
  { name: 'valid', salt: '8c2f0e61d2a9b3c4d5e6f708', expires: '4102444800', site: 's1', number: 4711 },
  { name: 'valid-zero', salt: '000000000000000000000000', expires: '4102444800', site: 'demo-site', number: 0 },
  { name: 'valid-max', salt: 'ffffffffffffffffffffffff', expires: '4102444800', site: 's1', number: 1000000 },
  { name: 'expired', salt: '0123456789abcdef01234567', expires: '1000000000', site: 's1', number: 42 },
];
const out = [];
for (const c of cases) {
  const ch = await createChallenge({
    hmacKey, number: c.number, salt: c.salt,
    params: { expires: c.expires, site: c.site }, maxnumber: 1000000,
  });
  const payload = btoa(JSON.stringify({
    algorithm: ch.algorithm, challenge: ch.challenge, number: c.number, salt: ch.salt, signature: ch.signature,
  }));
  out.push({
    name: c.name, hmacKey, site: c.site, number: c.number, challenge: ch, payload,
    altchaVerifies: await verifySolution(payload, hmacKey, true),
  });
}
console.log(JSON.stringify(out, null, 2));
