-- signed-url.lua: lets a request through only with a valid, unexpired signature
-- in its URL, such as a download link your application hands out for one hour.
--
-- Hook: viewer-request.
-- Attach it:
--   functions:
--     signed-url: { runtime: lua, code: functions/signed-url.lua }
--   behaviors:
--     - path: /signed/*
--       origin: site
--       viewer-request: signed-url
--
-- A signed URL is the path with two query parameters:
--   /signed/report.txt?expires=1767225600&sig=3f1c...
-- `expires` is when the link stops working, in seconds since 1970 (UTC), and `sig`
-- the HMAC-SHA256, in hex, of the path and the expiry written as
--   /signed/report.txt?expires=1767225600
-- under SECRET. The path is signed as it is sent (with its %-escapes), and without
-- any other query parameter; those pass through to the origin unsigned, so the
-- origin must not trust them.
--
-- Sign one in a shell (or the same in your application):
--   path=/signed/report.txt; expires=$(( $(date +%s) + 3600 ))
--   sig=$(printf '%s' "$path?expires=$expires" | openssl dgst -sha256 -hmac 'SECRET' -r | cut -d' ' -f1)
--   curl -i "http://localhost:8080$path?expires=$expires&sig=$sig"
--
-- A request without both parameters, with a signature that does not match, or
-- after its expiry gets 403 and never reaches the origin. A valid one reaches the
-- origin without `expires` and `sig`, so they do not split its cache or show up in
-- its logs.

-- PLACEHOLDER: change it to a long random string (say `openssl rand -hex 32`),
-- shared with whatever signs the URLs, and keep it out of public repositories.
local SECRET = "change-me-to-a-long-random-secret"

local function forbidden(why)
    return {
        statusCode = 403,
        statusDescription = "Forbidden",
        headers = {
            ["content-type"] = { value = "text/plain; charset=utf-8" },
            ["cache-control"] = { value = "no-store" },
        },
        body = "403 Forbidden: " .. why .. "\n",
    }
end

function handler(event)
    local request = event.request
    local querystring = request.querystring
    local expires = querystring.expires and querystring.expires.value
    local sig = querystring.sig and querystring.sig.value

    if expires == nil or sig == nil then
        return forbidden("this URL is not signed")
    end
    if not expires:match("^%d+$") or #expires > 12 then
        return forbidden("the signature is not valid")
    end

    -- the signature first, so that "expired" is only ever said of a genuine link
    local expected = crypto.hmac("sha256", SECRET, request.uri .. "?expires=" .. expires, "hex")
    -- crypto.equals, never ==: == stops at the first wrong byte, and the time that
    -- takes would tell an attacker how much of a forged signature was right
    if not crypto.equals(sig:lower(), expected) then
        return forbidden("the signature is not valid")
    end
    if tonumber(expires) < now() then
        return forbidden("this URL has expired")
    end

    -- the origin gets the request without the signature
    querystring.expires = nil
    querystring.sig = nil
    return request
end
