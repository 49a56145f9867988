// pg's crypto helpers (pg/lib/crypto/utils.js), loaded on their first call.
// The build (tsup.config.ts) puts this file in dist/pg-driver.cjs where pg's
// client and SASL code require './crypto/utils': pg's module requires
// node:crypto and touches its webcrypto when loaded, about 50 M instructions
// (5–7 ms) of every command that opens a server store, while only password
// authentication (md5, SCRAM) calls these (bench/startup, issue-12r).
'use strict';

let helpers;
const load = () => (helpers ??= require('pg/lib/crypto/utils.js'));

module.exports = {
  postgresMd5PasswordHash: (...args) => load().postgresMd5PasswordHash(...args),
  randomBytes: (...args) => load().randomBytes(...args),
  deriveKey: (...args) => load().deriveKey(...args),
  sha256: (...args) => load().sha256(...args),
  hashByName: (...args) => load().hashByName(...args),
  hmacSha256: (...args) => load().hmacSha256(...args),
  md5: (...args) => load().md5(...args),
};
