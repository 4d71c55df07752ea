"""Calls to the outside world (marketplaces, payment providers, carriers, FX sources).

Every adapter sends its HTTP through `hub.outbound.http.HttpClient`: a timeout on every call, a
tenacity retry policy that retries only transient failures (connection errors, timeouts, 429, 5xx)
with exponential backoff and jitter, `Retry-After` honoured, and an audit record of every attempt
with secrets removed from the URL.
"""
