-- Citizen reads: each request is the next line of a requests file, "<token or -><TAB><path>", so the run rotates
-- through many citizens, cases, matters and words instead of one hot row. Arguments: REQUESTS_FILE THREADS.
-- Each wrk thread starts at its own line and steps by the number of threads. report.lua counts the answers.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
local base_init = init

function init(args)
  base_init(args)
  requests = {}
  for line in io.lines(args[1]) do
    local token, path = string.match(line, "^([^\t]+)\t(.+)$")
    if path then
      local headers = {}
      if token ~= "-" then headers["Authorization"] = "Bearer " .. token end
      table.insert(requests, wrk.format("GET", path, headers))
    end
  end
  step = tonumber(args[2] or "1")
  cursor = thread_index - step
end

function request()
  cursor = (cursor + step) % #requests
  return requests[cursor + 1]
end
