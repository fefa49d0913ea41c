-- querystring-normalize.lua: rewrites the query string into one canonical form,
-- so that URLs that ask for the same thing look the same to the origin and to a
-- cache (more hits, fewer copies of one page).
--
-- Hook: viewer-request.
-- Attach it:
--   functions:
--     querystring-normalize: { runtime: lua, code: functions/querystring-normalize.lua }
--   behaviors:
--     - path: "*"
--       origin: app
--       viewer-request: querystring-normalize
--
-- What it does, as CloudFront's "normalize query string parameters" example does,
-- plus two steps:
--   * drops tracking parameters, which only analytics in the browser reads:
--     utm_*, fbclid, gclid and the others in TRACKING below;
--   * lowercases parameter names (Page=2 is page=2);
--   * sorts the parameters by name, and a repeated name's values too;
--   * writes each as name=value (a bare "flag" becomes "flag=").
--   /list?utm_source=news&Sort=price&page=2&fbclid=x  ->  /list?page=2&sort=price
-- Try it without an origin:
--   edgefn test querystring-normalize -c conf/examples/functions.yaml \
--     --event viewer-request --request 'GET /list?utm_source=news&Sort=price&page=2'
-- Values are kept as they are, case and %-escapes included: only names are
-- lowercased. If your application reads names case-sensitively, or gives the order
-- of repeated values a meaning, take those steps out.

-- parameters dropped by name, and by prefix
local TRACKING = {
    fbclid = true, gclid = true, dclid = true, gbraid = true, wbraid = true, msclkid = true,
    yclid = true, twclid = true, igshid = true, mc_cid = true, mc_eid = true, _ga = true,
}
local TRACKING_PREFIXES = { "utm_" }

local function is_tracking(name)
    if TRACKING[name] then
        return true
    end
    for _, prefix in ipairs(TRACKING_PREFIXES) do
        if name:sub(1, #prefix) == prefix then
            return true
        end
    end
    return false
end

function handler(event)
    local request = event.request
    local values = {} -- lowercased name -> its values
    local names = {}

    for name, param in pairs(request.querystring) do
        local key = name:lower()
        if not is_tracking(key) then
            if values[key] == nil then
                values[key] = {}
                names[#names + 1] = key
            end
            -- multiValue, when present, holds every value, the first included
            for _, v in ipairs(param.multiValue or { param }) do
                table.insert(values[key], v.value)
            end
        end
    end

    table.sort(names)
    local parts = {}
    for _, key in ipairs(names) do
        table.sort(values[key])
        for _, value in ipairs(values[key]) do
            parts[#parts + 1] = key .. "=" .. value
        end
    end

    -- a string replaces the query string as it is ("" removes it)
    request.querystring = table.concat(parts, "&")
    return request
end
