package main

import (
	"fmt"
	"time"

	"github.com/reportline/reportline/pow"
	relayconfig "github.com/reportline/reportline/relay/config"
)

// solveNatively solves n challenges of the relay's default difficulty and
// key-derivation function with the package the relay verifies with,
// natively in Go on one core,
// as a scripted sender would, and returns each one's time and time per
// key in milliseconds: the baseline of the widget's solving.
func solveNatively(n int) (ms, perKey []float64, err error) {
	iss, err := pow.NewIssuer(pow.RandomKey(), time.Hour)
	if err != nil {
		return nil, nil, err
	}
	for range n {
		c, err := iss.IssueV2("speed", relayconfig.DefaultDifficulty)
		if err != nil {
			return nil, nil, err
		}
		start := time.Now()
		sol, err := pow.SolveV2(&c.Parameters, pow.DeriveKey)
		if err != nil {
			return nil, nil, fmt.Errorf("failed to solve natively: %w", err)
		}
		took := float64(time.Since(start).Microseconds()) / 1000
		ms = append(ms, took)
		perKey = append(perKey, took/float64(sol.Counter+1))
	}
	return ms, perKey, nil
}

// notePoW keeps the proofs of work that visits measured.
func (r *results) notePoW(vs []visit) {
	for _, v := range vs {
		r.powBrowser = append(r.powBrowser, v.pow)
		r.powBrowserKey = append(r.powBrowserKey, v.pow/max(v.powKeys, 1))
	}
}
