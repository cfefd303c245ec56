-- Release-morning flash crowd: every request is a different logged-in citizen (round robin over the token file)
-- booking one of the slots (citizen i always races for slot i mod #slots), until the run ends.
-- Arguments: TOKENS_FILE SLOTS_FILE MATTER_ID THREADS. The report functions come from report.lua.
-- Each wrk thread takes its own share of the citizens, so no citizen ever sends two requests at once.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
local base_init = init

local function lines(path)
  local items = {}
  for line in io.lines(path) do if #line > 0 then table.insert(items, line) end end
  return items
end

function init(args)
  base_init(args)
  tokens = lines(args[1])
  slots = lines(args[2])
  matter_id = args[3]
  step = tonumber(args[4] or "1")
  cursor = thread_index - step
end

function request()
  cursor = (cursor + step) % (#tokens - (#tokens % step))
  local i = cursor + 1
  local slot = slots[(i % #slots) + 1]
  local body = '{"slot_id":' .. slot .. ',"matter_id":' .. matter_id .. '}'
  return wrk.format("POST", "/api/v1/appointments",
    {["Authorization"] = "Bearer " .. tokens[i], ["Content-Type"] = "application/json"}, body)
end
