module.exports.$check = async (event) => event.Records[0].cf.request;
