// jobs.go — the goroutines' versions of the workloads' jobs.
package main

import (
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// newHTTPJob: one http.Client for the run (idiomatic Go); its Transport keeps
// up to a connection per job in flight idle between a job's requests, and never
// uses a proxy (delayd is on loopback). Each body is checked as it is read.
func newHTTPJob(c *cell) func(i uint64) (uint64, error) {
	perJob, bytes := uint64(c.p("requests")), uint64(c.p("bytes"))
	delay := c.p("delay_ms")
	tr := &http.Transport{Proxy: nil, MaxIdleConns: 0, MaxIdleConnsPerHost: int(c.inFlight()), DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: time.Duration(delay)*time.Millisecond + 30*time.Second}
	buf := make(chan []byte, c.inFlight())
	return func(i uint64) (uint64, error) {
		var b []byte
		select {
		case b = <-buf:
		default:
			b = make([]byte, 65536)
		}
		defer func() {
			select {
			case buf <- b:
			default:
			}
		}()
		var acc uint64
		for k := uint64(0); k < perJob; k++ {
			seed := httpSeed(i, k, perJob)
			url := c.server + "/?ms=" + itoa(uint64(delay)) + "&bytes=" + itoa(bytes) + "&seed=" + itoa(seed)
			resp, err := client.Get(url)
			if err != nil {
				return 0, err
			}
			check := newBodyCheck(seed)
			for {
				n, rerr := resp.Body.Read(b)
				check.feed(b[:n])
				if rerr == io.EOF {
					break
				}
				if rerr != nil {
					resp.Body.Close()
					return 0, rerr
				}
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				return 0, errorf("GET %s: HTTP status %d", url, resp.StatusCode)
			}
			if !check.ok || check.offset != bytes {
				return 0, errorf("GET %s: body wrong (%d bytes, content ok %v)", url, check.offset, check.ok)
			}
			acc = httpCombine(acc, check.digest)
		}
		return acc, nil
	}
}

func itoa(v uint64) string {
	var d [20]byte
	k := len(d)
	for {
		k--
		d[k] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(d[k:])
		}
	}
}

func sleepJob(ms int64) func(i uint64) (uint64, error) {
	return func(i uint64) (uint64, error) {
		start := nowNs()
		for nowNs()-start < ms*1000000 { // a wake-up before the deadline sleeps on
			time.Sleep(time.Duration(ms*1000000 - (nowNs() - start)))
		}
		return sleepResult(i), nil
	}
}

// skynetTree builds one tree, a goroutine per node, each sending its sum on a channel.
func skynetTree(leaves, fanout uint64, created *uint64) uint64 {
	out := make(chan uint64, 1)
	atomic.AddUint64(created, 1)
	go skynetNode(0, leaves, fanout, created, out)
	return <-out
}

func skynetNode(first, count, fanout uint64, created *uint64, out chan<- uint64) {
	if count == 1 {
		out <- first
		return
	}
	parts := split(first, count, fanout)
	sums := make(chan uint64, len(parts))
	atomic.AddUint64(created, uint64(len(parts)))
	for _, p := range parts {
		go skynetNode(p[0], p[1], fanout, created, sums)
	}
	var s uint64
	for range parts {
		s += <-sums
	}
	out <- s
}
