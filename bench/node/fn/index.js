// bench/node.sh: the edgefn side's viewer-request function (Lambda@Edge style), run by
// edgefn's nodejs runtime: it adds the request header x-hook: 1, as bench/node/hook_server.js
// has nginx do through auth_request.
exports.handler = async (event) => {
    const request = event.Records[0].cf.request;
    request.headers['x-hook'] = [{ key: 'X-Hook', value: '1' }];
    return request;
};
