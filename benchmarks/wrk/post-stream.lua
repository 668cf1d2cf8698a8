-- POSTs a small streaming chat completion request (model "bench-stream").
-- wrk reads each SSE reply to its end, so its latency is time-to-last-byte.
-- Usage: wrk -t1 -c32 -d10s --latency -s benchmarks/wrk/post-stream.lua URL
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
-- The bench tenant's key (row semgate-tenants); the other servers ignore it.
wrk.headers["Authorization"] = "Bearer sk-bench-tenant"
wrk.body = '{"model":"bench-stream","messages":[{"role":"user","content":"hi"}],"stream":true}'
