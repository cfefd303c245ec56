-- Shared by every scenario: count statuses (and error codes of 409s) per thread; print one JSON line at the end.
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  codes = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status >= 400 and body then
    local code = string.match(body, '"code":"([A-Z_]+)"')
    if code then codes[code] = (codes[code] or 0) + 1 end
  end
end

local function merge(into, from)
  for key, count in pairs(from) do into[key] = (into[key] or 0) + count end
end

function done(summary, latency, requests)
  local all_statuses, all_codes = {}, {}
  for _, thread in ipairs(threads) do
    merge(all_statuses, thread:get("statuses"))
    merge(all_codes, thread:get("codes"))
  end
  local parts = {}
  for status, count in pairs(all_statuses) do table.insert(parts, string.format('"%d":%d', status, count)) end
  local code_parts = {}
  for code, count in pairs(all_codes) do table.insert(code_parts, string.format('"%s":%d', code, count)) end
  local errors = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"non_2xx_3xx":%d,' ..
    '"statuses":{%s},"codes":{%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    errors.connect, errors.read, errors.write, errors.timeout, errors.status,
    table.concat(parts, ","), table.concat(code_parts, ",")))
end
