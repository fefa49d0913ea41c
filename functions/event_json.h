/*
 * The event as JSON in the CloudFront Functions shape: what `edgefn test` reads from
 * an event file and prints as a function's result, so that an event copied from
 * CloudFront's documentation or its TestFunction console runs here unchanged.
 *
 *   {"version": "1.0",
 *    "context": {"eventType": "viewer-request", "requestId": "..."},
 *    "viewer": {"ip": "1.2.3.4"},
 *    "request": {"method": "GET", "uri": "/index.html",
 *                "querystring": {"a": {"value": "1", "multiValue": [{"value": "1"}, {"value": "2"}]}},
 *                "headers": {"host": {"value": "example.com"}},
 *                "cookies": {"id": {"value": "42"}}},
 *    "response": {"statusCode": 200, "statusDescription": "OK",
 *                 "headers": {...}, "cookies": {"id": {"value": "42", "attributes": "Path=/"}}}}
 */
#ifndef EF_FUNCTIONS_EVENT_JSON_H
#define EF_FUNCTIONS_EVENT_JSON_H

#include <jansson.h>
#include "functions/event.h"

/**
 * Applies the parts of `root` (an event as above) that are present onto `ev`, whose
 * pool, request and response (headers included) the caller has set up with defaults.
 * A `headers` object replaces the headers; `cookies` replace the cookie (request) or
 * set-cookie (response) headers; a `querystring` may be an object or a string.
 * `context.eventType`, when present, is stored in `*hook`. Everything is copied into
 * ev->pool. Returns 0, or -1 with a message naming the offending field in `err`.
 */
int ef_event_read_cf_json(ef_event_t *ev, json_t *root, ef_hook_t *hook, char *err, size_t errlen);

/**
 * Reads an event in any of the three shapes a test may give (`edgefn test --event-file`, POST /functions/NAME/test):
 * the CloudFront Functions shape above; Lambda@Edge's, {"Records": [{"cf": {"config": {"eventType": ...},
 * "request": {"clientIp", "method", "uri", "querystring": "a=1", "headers": {"host": [{"key": "Host", "value":
 * "..."}]}, "body": {"data", "encoding"}}, "response": {"status": "200", ...}}}]}; or the short form {"hook":
 * "viewer-request", "method": "GET", "uri": "/path?a=1", "headers": {"accept": "text/html", "x-m": ["a", "b"]},
 * "status": 404, "responseHeaders": {...}}. As ef_event_read_cf_json otherwise.
 */
int ef_event_read_json(ef_event_t *ev, json_t *root, ef_hook_t *hook, char *err, size_t errlen);

/* The request of `ev` as a CloudFront Functions request object: method, uri, querystring, headers, cookies. */
json_t *ef_event_request_to_cf_json(const ef_event_t *ev);

/**
 * The response of `ev` as a CloudFront Functions response object: statusCode,
 * statusDescription, headers, cookies, and body ({"encoding": "text" or "base64",
 * "data": ...}) when a function gave one.
 */
json_t *ef_event_response_to_cf_json(const ef_event_t *ev);

#endif
