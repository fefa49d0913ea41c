-- redirect-https-www.lua: sends viewers to https://www.<host>/ with a 301,
-- keeping the path and the query string; the origin never sees those requests.
--
-- Hook: viewer-request.
-- Attach it:
--   functions:
--     redirect-https-www: { runtime: lua, code: functions/redirect-https-www.lua }
--   behaviors:
--     - path: "*"
--       origin: site
--       viewer-request: redirect-https-www
--
--   http://example.com:8080/a/b?x=1   -> 301 https://www.example.com:8443/a/b?x=1
--   http://www.example.com/a/b        -> 301 https://www.example.com/a/b
--   https://example.com:8443/a/b      -> 301 https://www.example.com:8443/a/b
--   https://www.example.com:8443/a/b  -> no redirect: the origin answers
--
-- How it tells http from https: edgefn gives every function the viewer's scheme
-- in the cloudfront-forwarded-proto header ("http" or "https"), as CloudFront does;
-- a viewer cannot forge it, and origins never get it. A request that came over
-- plain http is sent to https on the port HTTPS_PORTS gives for the port in its
-- Host header, or on 443 (no port in the URL) for any port not listed.
--
-- The www part applies to domain names only: not to "localhost" or another name
-- without a dot, not to IP addresses, not to hosts that already start with "www.".
-- 301 tells browsers to remember the redirect; use 302 while trying it out. A
-- browser turns a POST into a GET when following a 301; answer 308 instead if your
-- site takes POSTs on URLs that get redirected.

local ADD_WWW = true -- example.com -> www.example.com
local HTTPS_PORTS = { -- plain-http port in the Host header -> the https port to send the viewer to
    ["8080"] = "8443", -- the demo's listeners; unlisted ports go to 443
}

-- The query string back from event.request.querystring: "a=1&a=2&b=x". Values are
-- as the viewer sent them (still %-encoded). Names are sorted, since a table has no
-- order; the values of a repeated name keep theirs.
local function query_string(querystring)
    local names, parts = {}, {}
    for name in pairs(querystring) do
        names[#names + 1] = name
    end
    table.sort(names)
    for _, name in ipairs(names) do
        local param = querystring[name]
        for _, v in ipairs(param.multiValue or { param }) do
            parts[#parts + 1] = name .. "=" .. v.value
        end
    end
    return table.concat(parts, "&")
end

function handler(event)
    local request = event.request
    local host = request.headers.host and request.headers.host.value
    if host == nil then
        return request -- an HTTP/1.0 request without a Host: nowhere to redirect to
    end

    -- "example.com:8080" -> "example.com", "8080"; "[::1]:8080" -> "[::1]", "8080"
    local name, port = host:match("^(.-):(%d+)$")
    if name == nil then
        name = host
    end
    name = name:lower()

    local proto = request.headers["cloudfront-forwarded-proto"]
    local to_https = proto ~= nil and proto.value == "http"
    local to_www = ADD_WWW
        and name:find(".", 1, true) ~= nil -- a domain name, not "localhost"
        and name:sub(1, 4) ~= "www."
        and not name:match("^[%d.]+$") -- not an IPv4 address
        and name:sub(1, 1) ~= "[" -- not an IPv6 address
    if not to_https and not to_www then
        return request -- already where it should be
    end

    if to_https then
        port = port and HTTPS_PORTS[port] -- nil: the default, 443
    end
    if to_www then
        name = "www." .. name
    end
    local location = "https://" .. name
    if port ~= nil and port ~= "443" then
        location = location .. ":" .. port
    end
    location = location .. request.uri
    local query = query_string(request.querystring)
    if query ~= "" then
        location = location .. "?" .. query
    end

    return {
        statusCode = 301,
        statusDescription = "Moved Permanently",
        headers = {
            location = { value = location },
        },
    }
end
