// A module that forgot its default export.
export const adapter = { specificationVersion: 'v1', id: 'named-only' };
