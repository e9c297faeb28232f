"""The blocking jobs the seed writes (sync, threading, multiprocessing and gevent
run them): pow as `a ** b`, http as urlopen(url).read() one URL after another (a
connection per URL), sleep as time.sleep. The idiomatic http job keeps one
keep-alive connection for a job's URLs (http.client), as the C job keeps one curl
handle. Each returns job i's result or raises."""
import http.client
import time
import urllib.parse
import urllib.request

from cbpeer import work
from cbpeer.cell import now_ns

# No proxy: delayd is on loopback, and an http_proxy in the environment must not
# reroute the benchmark (the C models set CURLOPT_NOPROXY "*").
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def pow_job(cell, i):
    return work.pow_digest(cell.p("base") ** cell.p("exp"))


def http_job(cell, i):
    per_job, acc = cell.p("requests"), 0
    timeout = cell.p("delay_ms") / 1000 + 30
    for k in range(per_job):
        url = work.http_url(cell.server, cell.params, work.http_seed(i, k, per_job))
        with _opener.open(url, timeout=timeout) as resp:  # the seed's urlopen(url).read()
            data = resp.read()
            acc = work.http_combine(acc, work.check_body(url, resp.status, data, cell.p("bytes")))
    return acc


def http_job_keepalive(cell, i):
    per_job, acc = cell.p("requests"), 0
    where = urllib.parse.urlsplit(cell.server)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=cell.p("delay_ms") / 1000 + 30)
    try:
        for k in range(per_job):
            url = work.http_url(cell.server, cell.params, work.http_seed(i, k, per_job))
            conn.request("GET", url[len(cell.server):] or "/")
            resp = conn.getresponse()
            data = resp.read()
            acc = work.http_combine(acc, work.check_body(url, resp.status, data, cell.p("bytes")))
    finally:
        conn.close()
    return acc


def sleep_job(cell, i):
    ms = cell.p("ms")
    start = now_ns()
    time.sleep(ms / 1000)  # gevent's patched sleep too
    end = now_ns()
    while end - start < ms * 1000000:  # a wake-up before the deadline sleeps on
        time.sleep((ms * 1000000 - (end - start)) / 1e9)
        end = now_ns()
    work.sleep_check(start, end, ms)
    return work.sleep_result(i)


JOBS = {"pow": pow_job, "http": http_job, "sleep": sleep_job}
JOBS_IDIOM = dict(JOBS, http=http_job_keepalive)


def jobs(style):
    """The job table of a style: the idiomatic one for STYLE-idiom."""
    return JOBS_IDIOM if style.endswith("-idiom") else JOBS
