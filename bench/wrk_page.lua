-- The load of bench/load.py for one page, run by wrk (a C load generator: it leaves the CPU to
-- the server). Configured through environment variables set by bench/load.py:
--   BENCH_METHOD   GET or POST                 BENCH_PATHS  the paths, separated by newlines
--   BENCH_EXPECT   the expected status          BENCH_BODY   a file whose bytes are the POST body
--   BENCH_HEADERS  header lines "Name: value", separated by newlines
-- Each connection repeats its request as soon as the answer arrives (no think time), cycling
-- through the paths. A status other than the expected one counts as an error. At the end one
-- JSON line on stdout: requests, errors, seconds and the latency percentiles in milliseconds.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function split(text)
  local out = {}
  for line in string.gmatch(text or "", "[^\n]+") do table.insert(out, line) end
  return out
end

function init(args)
  paths = split(os.getenv("BENCH_PATHS"))
  expect = tonumber(os.getenv("BENCH_EXPECT") or "200")
  method = os.getenv("BENCH_METHOD") or "GET"
  headers = {}
  for _, line in ipairs(split(os.getenv("BENCH_HEADERS"))) do
    local name, value = string.match(line, "^([^:]+):%s*(.*)$")
    if name then headers[name] = value end
  end
  body = nil
  local file = os.getenv("BENCH_BODY")
  if file and file ~= "" then
    local handle = assert(io.open(file, "rb"))
    body = handle:read("*a")
    handle:close()
  end
  counter = 0
  bad = 0
  statuses = {}
end

function request()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  if status ~= expect then
    bad = bad + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local bad_total, seen = 0, {}
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
    local per = thread:get("statuses")
    for status, count in pairs(per) do seen[#seen + 1] = string.format('"%d": %d', status, count) end
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "bad_status": %d, "socket_errors": %d, "timeouts": %d, ' ..
    '"p50": %.2f, "p95": %.2f, "p99": %.2f, "statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, bad_total, socket_errors, e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    table.concat(seen, ", ")))
end
