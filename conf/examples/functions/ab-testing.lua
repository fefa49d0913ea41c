-- ab-testing.lua: splits viewers between two versions of a section, A and B, and
-- keeps each viewer on the same one with a cookie.
--
-- Hooks: viewer-request and viewer-response, the same function on both.
-- Attach it:
--   functions:
--     ab-testing: { runtime: lua, code: functions/ab-testing.lua }
--   behaviors:
--     - path: /ab/*
--       origin: site
--       viewer-request: ab-testing
--       viewer-response: ab-testing
--
-- At viewer-request it picks the viewer's variant: the one in their "ab-variant"
-- cookie, or, for a viewer without one (or with a value that is neither "a" nor
-- "b"), a new one at random (B_SHARE of viewers get B). It then rewrites the URI:
--   /ab/pricing.html -> /a/pricing.html or /b/pricing.html
-- so the origin holds the two versions side by side, under /a/ and /b/. The
-- viewer's URL does not change.
--
-- At viewer-response it sets the cookie for a viewer who did not have it, so that
-- their next requests get the same variant (a viewer-request function that lets
-- the request through has no response to set it on, hence the second hook). It
-- tells the variant from the request's URI, which the viewer-response event shows
-- as rewritten at viewer-request, and a new viewer from the request's cookies,
-- which this function leaves as the viewer sent them.
--
-- Set the cookie at viewer-response, which runs for every viewer's request, not at
-- origin-response, whose response a cache would hand to every viewer, cookie and all.

local COOKIE = "ab-variant"
local COOKIE_ATTRIBUTES = "Path=/; Max-Age=2592000; SameSite=Lax" -- 30 days; add "; Secure" on an https-only site
local PREFIX = "/ab/" -- the section under test; match it with the behavior's path
local B_SHARE = 0.5 -- the share of new viewers sent to B

local VARIANTS = { a = true, b = true }

-- the variant in the viewer's cookie, or nil
local function cookie_variant(request)
    local cookie = request.cookies[COOKIE]
    if cookie ~= nil and VARIANTS[cookie.value] then
        return cookie.value
    end
    return nil
end

local function on_viewer_request(request)
    if request.uri:sub(1, #PREFIX) ~= PREFIX then
        return request -- not in the experiment
    end
    local variant = cookie_variant(request)
    if variant == nil then
        variant = math.random() < B_SHARE and "b" or "a"
    end
    -- /ab/pricing.html -> /b/pricing.html
    request.uri = "/" .. variant .. "/" .. request.uri:sub(#PREFIX + 1)
    return request
end

local function on_viewer_response(request, response)
    if cookie_variant(request) ~= nil then
        return response -- a returning viewer: the cookie is set already
    end
    -- the variant chosen at viewer-request, from the rewritten URI: "/b/pricing.html" -> "b"
    local variant = request.uri:match("^/(%a)/")
    if variant ~= nil and VARIANTS[variant] then
        response.cookies[COOKIE] = { value = variant, attributes = COOKIE_ATTRIBUTES }
    end
    return response
end

function handler(event)
    if event.context.eventType == "viewer-request" then
        return on_viewer_request(event.request)
    end
    return on_viewer_response(event.request, event.response)
end
