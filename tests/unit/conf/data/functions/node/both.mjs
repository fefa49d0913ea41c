// never loaded: both.js comes first
export const handler = async (event) => event.Records[0].cf.request;
