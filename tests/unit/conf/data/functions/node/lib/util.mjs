// lib/util.mjs and lib/util.cjs both exist: .mjs is looked for first, so this is the module of "lib/util.$check"
export const $check = async (event) => event.Records[0].cf.request;
