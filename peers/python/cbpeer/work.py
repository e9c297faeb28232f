"""What a job computes, bit for bit the C workloads' (workloads/pow.c, http.c,
http_seed.h, body.c, sleep.c, spawn.c): the harness compares each result with the
C expected(env, i). Integers are masked to 64 bits where C's wrap."""
import operator
import sys

M64 = (1 << 64) - 1
POW_M1 = (1 << 61) - 1  # workloads/pow.c M1
POW_M2 = 1000000007  # workloads/pow.c M2


def mix64(x):
    """cb_mix64 (workloads/body.c): the splitmix64 finaliser."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def pow_digest(r):
    """pow_digest of base ** exp: its residues modulo the two primes."""
    return mix64((r % POW_M1) ^ mix64(r % POW_M2))


def http_seed(i, k, per_job):
    """cb_http_request_seed (workloads/http_seed.h)."""
    return i * per_job + k + 1


def http_url(server, params, seed):
    return "%s/?ms=%d&bytes=%d&seed=%d" % (server, params["delay_ms"], params["bytes"], seed)


def http_combine(acc, digest):
    """cb_http_combine (workloads/http_seed.h)."""
    return mix64(acc ^ digest)


def body_digest(data):
    """The digest cb_body_check_feed reaches over a whole body (workloads/body.c):
    sum of little-endian words x (2b + 1), then the tail bytes' terms, mod 2^64.
    The byte-for-byte check is the harness's: a wrong body gives a wrong digest."""
    n = len(data) // 8
    words = memoryview(data)[: 8 * n].cast("Q")
    if sys.byteorder != "little":
        words = [int.from_bytes(data[8 * b : 8 * b + 8], "little") for b in range(n)]
    d = sum(map(operator.mul, words, range(1, 2 * n, 2)))
    for off in range(8 * n, len(data)):
        d += (data[off] << (8 * (off % 8))) * (2 * (off // 8) + 1)
    return d & M64


def check_body(url, status, data, want_bytes):
    if status != 200:
        raise IOError("GET %s: HTTP status %d" % (url, status))
    if len(data) != want_bytes:
        raise IOError("GET %s: body wrong (%d bytes, %d asked)" % (url, len(data), want_bytes))
    return body_digest(data)


def sleep_result(i):
    return mix64(i)


def sleep_check(start_ns, end_ns, ms):
    if end_ns - start_ns < ms * 1000000:
        raise OSError("woke after %.3f ms, before its %d ms" % ((end_ns - start_ns) / 1e6, ms))


def split(first, count, fanout):
    """The children of a skynet node over leaves [first, first + count), as the C
    models split them (runtimes/threads/coord.c): min(count, fanout) parts, the
    first count % k one larger."""
    k = min(count, fanout)
    out = []
    for j in range(k):
        cnt = count // k + (1 if j < count % k else 0)
        out.append((first, cnt))
        first += cnt
    return out
