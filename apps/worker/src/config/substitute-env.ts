// Moved to @utt/core so @utt/tracker reads a utt config with the same `${VAR}` rules.
export { ConfigTooLargeError, MAX_CONFIG_VALUES, passwordOfUrl, secretValuesOf, type Substitution, substituteEnv } from '@utt/core';
