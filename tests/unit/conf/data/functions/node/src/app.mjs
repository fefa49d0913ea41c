export const handler = async (event) => event.Records[0].cf.request;
export const handlers = { main: handler };
