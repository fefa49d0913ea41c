-- A function directory without index.lua: only handler "main.FUNCTION" finds a module here.
function handler(event)
    return event.request
end
