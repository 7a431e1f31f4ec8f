-- wrk script for bench/peers: every request POSTs the same small JSON body, as
-- `POST /api/v1/al/hello/s` with {"message": "hi"}; at the end one line of JSON with the
-- counts and latency percentiles (microseconds), which bench/peers.ts reads.
wrk.method = "POST"
wrk.body = '{"message":"hi"}'
wrk.headers["Content-Type"] = "application/json"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"durationUs":%d,"socketErrors":%d,"status4xx5xx":%d,"timeouts":%d,' ..
    '"p50Us":%d,"p90Us":%d,"p99Us":%d,"meanUs":%.1f,"maxUs":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
