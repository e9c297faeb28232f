// concbench's Go peer (runtimes/peer/README.md): one cell with goroutines.
//
//	concbench-peer-go STYLE --workload W --tasks N --concurrency C [--server URL] [--param K=V]...
//
// STYLE is goroutines: a goroutine per job (C = 0) or at most C at once (a
// semaphore channel); pow with math/big, http with one net/http Client (its
// Transport keeps a connection per job in flight), sleep with time.Sleep, spawn
// the skynet tree with a goroutine per node and a channel for each node's sum.
// Only the standard library. Output: the lines cbpeer/cell.py documents.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

const exitUsage, exitUnsupported = 2, 4

func usage(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "concbench-peer-go: "+format+"\n", a...)
	os.Exit(exitUsage)
}

type cell struct {
	workload    string
	tasks       uint64
	concurrency uint64
	server      string
	params      map[string]int64
}

func (c *cell) p(name string) int64 {
	v, ok := c.params[name]
	if !ok {
		usage("--param %s is required for workload %s", name, c.workload)
	}
	return v
}

func (c *cell) inFlight() uint64 {
	if c.concurrency == 0 || c.concurrency > c.tasks {
		return c.tasks
	}
	return c.concurrency
}

func parse(args []string) *cell {
	if len(args) < 1 || args[0] != "goroutines" {
		usage("STYLE must be goroutines")
	}
	c := &cell{params: map[string]int64{}}
	for k := 1; k < len(args); k += 2 {
		if k+1 >= len(args) {
			usage("%s needs a value", args[k])
		}
		a, v := args[k], args[k+1]
		switch a {
		case "--workload":
			c.workload = v
		case "--tasks", "--concurrency":
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil || (a == "--tasks" && n == 0) {
				usage("%s: expected an integer (tasks >= 1), got '%s'", a, v)
			}
			if a == "--tasks" {
				c.tasks = n
			} else {
				c.concurrency = n
			}
		case "--server":
			c.server = v
		case "--param":
			i := strings.IndexByte(v, '=')
			n, err := strconv.ParseInt(v[i+1:], 10, 64)
			if i <= 0 || err != nil {
				usage("--param: expected NAME=INTEGER, got '%s'", v)
			}
			c.params[v[:i]] = n
		default:
			usage("unknown argument '%s'", a)
		}
	}
	if c.workload == "" || c.tasks == 0 {
		usage("--workload and --tasks are required")
	}
	return c
}

// nowNs is CLOCK_MONOTONIC in ns, the clock cb_now_ns reads.
func nowNs() int64 {
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, 1 /* CLOCK_MONOTONIC */, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

type record struct {
	result     uint64
	start, end int64
	err        error
}

func main() {
	c := parse(os.Args[1:])
	var job func(i uint64) (uint64, error)
	var created uint64
	kind := "goroutines"
	switch c.workload {
	case "pow":
		base, exp := c.p("base"), c.p("exp")
		job = func(i uint64) (uint64, error) { return powJob(base, exp), nil }
	case "http":
		if c.server == "" {
			usage("--server is required for workload http")
		}
		job = newHTTPJob(c)
	case "sleep":
		job = sleepJob(c.p("ms"))
	case "spawn":
		leaves, fanout := uint64(c.p("leaves")), uint64(c.p("fanout"))
		job = func(i uint64) (uint64, error) { return skynetTree(leaves, fanout, &created), nil }
	default:
		fmt.Fprintf(os.Stderr, "concbench-peer-go: no version of workload %s\n", c.workload)
		os.Exit(exitUnsupported)
	}
	recs := make([]record, c.tasks)
	run := func(i uint64) {
		r := &recs[i]
		r.start = nowNs()
		r.result, r.err = job(i)
		r.end = nowNs()
	}
	t0 := nowNs()
	if c.workload == "spawn" { // one tree after another, as every model runs them
		for i := uint64(0); i < c.tasks; i++ {
			run(i)
		}
	} else {
		var wg sync.WaitGroup
		sem := make(chan struct{}, c.inFlight())
		for i := uint64(0); i < c.tasks; i++ {
			sem <- struct{}{}
			wg.Add(1)
			go func(i uint64) {
				defer func() { <-sem; wg.Done() }()
				run(i)
			}(i)
		}
		wg.Wait()
		created = c.tasks
	}
	t1 := nowNs()
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(w, "concbench-peer 1\nphase %d %d\ncreated %d %s\n", t0, t1, atomic.LoadUint64(&created), kind)
	for i := range recs {
		r := &recs[i]
		if r.err == nil {
			fmt.Fprintf(w, "job %d %016x %d %d\n", i, r.result, r.start, r.end)
		} else {
			msg := strings.Join(strings.Fields(r.err.Error()), " ")
			if len(msg) > 200 {
				msg = msg[:200]
			}
			fmt.Fprintf(w, "fail %d %d %d %s\n", i, r.start, r.end, msg)
		}
	}
	w.Flush()
}
