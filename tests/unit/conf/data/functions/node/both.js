// both.js and both.mjs exist: .js is looked for first, so this is the module of "both.handler"
exports.handler = async (event) => event.Records[0].cf.request;
