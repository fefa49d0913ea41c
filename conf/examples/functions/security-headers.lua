-- security-headers.lua: adds the usual security headers to every response.
--
-- Hook: viewer-response.
-- Attach it:
--   functions:
--     security-headers: { runtime: lua, code: functions/security-headers.lua }
--   behaviors:
--     - path: "*"
--       origin: site
--       viewer-response: security-headers
--
-- This is CloudFront's "add security headers" example, with one difference: a
-- header the origin already set is left alone (what a CloudFront response headers
-- policy does with "origin override" off), so a page that needs its own
-- Content-Security-Policy or X-Frame-Options keeps it. To force a value whatever
-- the origin says, drop the `if headers[name] == nil` test below.
--
-- It runs on every response from the origin (or from a function at
-- origin-request), error pages included, but not on edgefn's own error responses
-- (502, 503, 504), which never reach viewer-response.

local SECURITY_HEADERS = {
    -- browsers remember for two years to use https only (they ignore it over plain http)
    ["strict-transport-security"] = "max-age=63072000; includeSubDomains; preload",
    -- do not guess a content type other than the one sent
    ["x-content-type-options"] = "nosniff",
    -- no framing by other sites (clickjacking); frame-ancestors below says the same to newer browsers
    ["x-frame-options"] = "DENY",
    -- send only the origin, not the full URL, to other sites
    ["referrer-policy"] = "strict-origin-when-cross-origin",
    -- a strict policy for a static site: everything from this site only, no plugins, no framing;
    -- loosen it to what your pages load (see the browser console for what it blocks)
    ["content-security-policy"] = "default-src 'self'; img-src 'self' data:; object-src 'none'; "
        .. "base-uri 'self'; frame-ancestors 'none'",
}

function handler(event)
    local response = event.response
    local headers = response.headers

    for name, value in pairs(SECURITY_HEADERS) do
        if headers[name] == nil then -- the origin did not set it
            headers[name] = { value = value }
        end
    end

    return response
end
