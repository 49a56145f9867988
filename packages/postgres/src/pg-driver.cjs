// The pg driver as one CommonJS module. From src/ (the tests) this is pg
// itself; the build (tsup.config.ts) bundles pg and its modules into
// dist/pg-driver.cjs, which Node loads in a fraction of the time of pg's
// thirty-odd files (bench/startup).
module.exports = require('pg');
