# Lambda@Edge, viewer-request: permanent redirects from a table, answered at the edge
# without asking the origin; other requests go on unchanged. Runs unchanged on AWS
# and on edgefn (runtime: python, code: functions/lambda/redirects/).

# Built once per execution environment, then reused by every request it serves.
REDIRECTS = {
    "/old-blog": "/blog/",
    "/docs/v1": "/docs/",
    "/about-us": "/about/",
}


def handler(event, context):
    request = event["Records"][0]["cf"]["request"]
    target = REDIRECTS.get(request["uri"].rstrip("/") or "/")
    if target is None:
        return request
    if request["querystring"]:
        target += "?" + request["querystring"]
    return {
        "status": "301",
        "statusDescription": "Moved Permanently",
        "headers": {
            "location": [{"key": "Location", "value": target}],
            "cache-control": [{"key": "Cache-Control", "value": "max-age=3600"}],
        },
    }
