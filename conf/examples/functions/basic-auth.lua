-- basic-auth.lua: asks for a user name and password (HTTP Basic authentication)
-- before the origin sees a request.
--
-- Hook: viewer-request.
-- Attach it:
--   functions:
--     basic-auth: { runtime: lua, code: functions/basic-auth.lua }
--   behaviors:
--     - path: /private/*
--       origin: site
--       viewer-request: basic-auth
--
-- CloudFront's "basic authentication" example. A request without an Authorization
-- header, or with a wrong one, gets 401 with a WWW-Authenticate header, which makes
-- a browser ask for the credentials; the right ones let the request through to
-- the origin:
--   curl -i http://localhost:8080/private/                          # 401
--   curl -i -u admin:change-me http://localhost:8080/private/       # 200
--
-- Basic authentication sends the password with every request, readable by anyone
-- on the way: use it over https only. The origin still gets the Authorization
-- header; add `request.headers.authorization = nil` before `return request` if it
-- should not.

-- PLACEHOLDERS: change both before you deploy.
local USERNAME = "admin"
local PASSWORD = "change-me"
local REALM = "private" -- shown by some browsers in the login prompt

function handler(event)
    local request = event.request
    local authorization = request.headers.authorization

    if authorization ~= nil then
        -- "Basic YWRtaW46Y2hhbmdlLW1l": the scheme is case-insensitive (RFC 7617)
        local scheme, credentials = authorization.value:match("^(%S+)%s+(%S+)%s*$")
        local expected = base64.encode(USERNAME .. ":" .. PASSWORD)
        -- crypto.equals takes as long for a near miss as for a wild guess, so the
        -- time the answer takes tells an attacker nothing about the password
        if scheme ~= nil and scheme:lower() == "basic" and crypto.equals(credentials, expected) then
            return request
        end
    end

    return {
        statusCode = 401,
        statusDescription = "Unauthorized",
        headers = {
            ["www-authenticate"] = { value = 'Basic realm="' .. REALM .. '", charset="UTF-8"' },
        },
    }
end
