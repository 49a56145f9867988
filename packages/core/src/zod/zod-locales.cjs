// zod's locales as one CommonJS module: the build (tsup.config.ts) bundles
// them into dist/zod-locales.cjs, which src/zod/lazy-zod-locales.ts loads the
// first time a locale other than English is asked for.
module.exports = require('zod/v4/locales');
