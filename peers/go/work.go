// work.go — what a job computes, bit for bit the C workloads' (workloads/pow.c,
// http_seed.h, body.c, sleep.c, spawn.c): the harness compares each result with
// the C expected(env, i).
package main

import (
	"encoding/binary"
	"fmt"
	"math/big"
)

// mix64 is cb_mix64 (workloads/body.c), the splitmix64 finaliser.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

var powM1 = new(big.Int).SetUint64(1<<61 - 1) // workloads/pow.c M1
var powM2 = big.NewInt(1000000007)            // workloads/pow.c M2

// powJob computes base ** exp (math/big) and digests it by its residues.
func powJob(base, exp int64) uint64 {
	r := new(big.Int).Exp(big.NewInt(base), big.NewInt(exp), nil)
	r1 := new(big.Int).Mod(r, powM1).Uint64()
	r2 := new(big.Int).Mod(r, powM2).Uint64()
	return mix64(r1 ^ mix64(r2))
}

func httpSeed(job, k, perJob uint64) uint64 { return job*perJob + k + 1 }
func httpCombine(acc, digest uint64) uint64 { return mix64(acc ^ digest) }

func seedKey(seed uint64) uint64 { return mix64(seed * 0x100000001b3) }

// blockWord is block b of the body whose seed key is key (body.c block_word).
func blockWord(key, b uint64) uint64 {
	x := key + b*0x9e3779b97f4a7c15
	x = (x ^ (x >> 32)) * 0xd6e8feb86659fd93
	x ^= x >> 32
	return (x & 0x3f3f3f3f3f3f3f3f) + 0x2121212121212121
}

// bodyCheck is cb_body_check: body bytes compared as they arrive, and digested.
type bodyCheck struct {
	key, offset, digest uint64
	ok                  bool
}

func newBodyCheck(seed uint64) bodyCheck { return bodyCheck{key: seedKey(seed), ok: true} }

func (c *bodyCheck) feed(p []byte) {
	off := c.offset
	for len(p) > 0 && off%8 != 0 {
		c.byte(p[0], off)
		p, off = p[1:], off+1
	}
	for ; len(p) >= 8; p, off = p[8:], off+8 {
		b, got := off/8, binary.LittleEndian.Uint64(p)
		if got != blockWord(c.key, b) {
			c.ok = false
		}
		c.digest += got * (2*b + 1)
	}
	for _, v := range p {
		c.byte(v, off)
		off++
	}
	c.offset = off
}

func (c *bodyCheck) byte(v byte, off uint64) {
	if v != byte(blockWord(c.key, off/8)>>(8*(off%8))) {
		c.ok = false
	}
	c.digest += (uint64(v) << (8 * (off % 8))) * (2*(off/8) + 1)
}

func sleepResult(i uint64) uint64 { return mix64(i) }

// split gives the children of a skynet node over leaves [first, first+count) as
// the C models split them: min(count, fanout) parts, the first count%k one larger.
func split(first, count, fanout uint64) [][2]uint64 {
	k := count
	if fanout < k {
		k = fanout
	}
	out := make([][2]uint64, 0, k)
	for j := uint64(0); j < k; j++ {
		cnt := count / k
		if j < count%k {
			cnt++
		}
		out = append(out, [2]uint64{first, cnt})
		first += cnt
	}
	return out
}

func errorf(format string, a ...interface{}) error { return fmt.Errorf(format, a...) }
