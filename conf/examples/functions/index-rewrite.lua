-- index-rewrite.lua: serves /dir/index.html for /dir/ and for /dir.
--
-- Hook: viewer-request.
-- Attach it:
--   functions:
--     index-rewrite: { runtime: lua, code: functions/index-rewrite.lua }
--   behaviors:
--     - path: "*"
--       origin: site
--       viewer-request: index-rewrite
--
-- CloudFront's "add index.html to request URLs that don't include a file name"
-- example. An origin such as an S3 bucket has no directories, only objects, so
-- the function names the object:
--   /docs/           -> /docs/index.html
--   /docs            -> /docs/index.html   (the last segment has no extension)
--   /style.css       -> /style.css         (unchanged: it names a file)
--   /v1.2/guide      -> /v1.2/guide/index.html
-- Only the last path segment is looked at for a '.', so a dot in a directory name
-- does not stop the rewrite (CloudFront's example looks at the whole URI).
--
-- The query string is kept as it is. The origin sees the new path; the viewer's URL
-- does not change (this is a rewrite, not a redirect), so relative links in
-- /docs/index.html served as /docs resolve against /, not /docs/: use absolute
-- links, or redirect instead (a directory origin does that by itself: 301 /docs ->
-- /docs/).

function handler(event)
    local request = event.request
    local uri = request.uri

    if uri:sub(-1) == "/" then
        -- a directory: /docs/ -> /docs/index.html
        request.uri = uri .. "index.html"
    elseif not uri:match("[^/]*$"):find(".", 1, true) then
        -- no extension in the last segment: /docs -> /docs/index.html
        request.uri = uri .. "/index.html"
    end

    return request
end
