// Writes altcha-v2-vectors.json with ALTCHA's own reference library
// (protocol version 2), so that the Go implementation and the widget are
// checked against it rather than against themselves:
//
//   - "library": challenges made by altcha-lib's createChallenge in
//     deterministic mode with a key signature, solved by its
//     solveChallenge and checked by its verifySolution;
//   - "relay": the relay's own challenges (altcha-v2-relay.json, written by
//     `go test ./pow -run TestRelayChallengesV2 -update`), solved by
//     altcha-lib's solveChallenge and checked by its verifySolution, both
//     with the key signature and by deriving the key again.
//
//   npm install altcha-lib@2.8.0 && node altcha-v2-vectors.mjs > altcha-v2-vectors.json
import { readFileSync } from 'node:fs';
import { createChallenge, solveChallenge, verifySolution } from 'altcha-lib';
import { deriveHmacKeySecret } from 'altcha-lib/frameworks/express';
import { deriveKey as pbkdf2 } from 'altcha-lib/algorithms/pbkdf2';
import { deriveKey as scrypt } from 'altcha-lib/algorithms/scrypt';

const hmacKey = 'reportline test key, 32 bytes or more';
const keySecret = await deriveHmacKeySecret(hmacKey);
const derivers = { 'PBKDF2/SHA-256': pbkdf2, SCRYPT: scrypt };

async function solveAndVerify(challenge) {
  const deriveKey = derivers[challenge.parameters.algorithm];
  const solution = await solveChallenge({ challenge, deriveKey });
  delete solution.time; // varies from run to run
  const withKeySignature = await verifySolution({
    challenge, solution, deriveKey, hmacSignatureSecret: hmacKey, hmacKeySignatureSecret: keySecret,
  });
  const byDerivation = await verifySolution({ challenge, solution, deriveKey, hmacSignatureSecret: hmacKey });
  return {
    solution,
    payload: btoa(JSON.stringify({ challenge, solution })),
    verified: withKeySignature.verified,
    verifiedByDerivation: byDerivation.verified,
  };
}

const cases = [
  { name: 'pbkdf2', algorithm: 'PBKDF2/SHA-256', cost: 1000, counter: 37, site: 's1', expiresAt: 4102444800 },
  { name: 'pbkdf2-counter-zero', algorithm: 'PBKDF2/SHA-256', cost: 2000, counter: 0, site: 'demo-site', expiresAt: 4102444800 },
  { name: 'scrypt', algorithm: 'SCRYPT', cost: 1024, memoryCost: 8, counter: 5, site: 's1', expiresAt: 4102444800 },
  { name: 'expired', algorithm: 'PBKDF2/SHA-256', cost: 1000, counter: 3, site: 's1', expiresAt: 1000000000 },
];
const library = [];
for (const c of cases) {
  const challenge = await createChallenge({
    algorithm: c.algorithm, cost: c.cost, memoryCost: c.memoryCost, counter: c.counter,
    data: { site: c.site }, expiresAt: c.expiresAt, deriveKey: derivers[c.algorithm],
    hmacSignatureSecret: hmacKey, hmacKeySignatureSecret: keySecret,
  });
  library.push({ name: c.name, site: c.site, counter: c.counter, challenge, ...(await solveAndVerify(challenge)) });
}

const relay = [];
for (const r of JSON.parse(readFileSync(new URL('altcha-v2-relay.json', import.meta.url)))) {
  relay.push({ name: r.name, site: r.site, challenge: r.challenge, ...(await solveAndVerify(r.challenge)) });
}
const widget = [];
for (const [name, payload] of Object.entries(JSON.parse(readFileSync(new URL('altcha-v2-widget.json', import.meta.url))))) {
  const { challenge, solution } = JSON.parse(atob(payload));
  const deriveKey = derivers[challenge.parameters.algorithm];
  const withKeySignature = await verifySolution({
    challenge, solution, deriveKey, hmacSignatureSecret: hmacKey, hmacKeySignatureSecret: keySecret,
  });
  const byDerivation = await verifySolution({ challenge, solution, deriveKey, hmacSignatureSecret: hmacKey });
  widget.push({ name, payload, verified: withKeySignature.verified, verifiedByDerivation: byDerivation.verified });
}
console.log(JSON.stringify({ hmacKey, keySecret, library, relay, widget }, null, 2));
