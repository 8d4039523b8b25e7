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
// as a scripted sender would, and returns each one's time in
// milliseconds: the baseline of the widget's solving.
func solveNatively(n int) ([]float64, error) {
	iss, err := pow.NewIssuer(pow.RandomKey(), time.Hour)
	if err != nil {
		return nil, err
	}
	var ms []float64
	for range max(n, 1) {
		c, err := iss.IssueV2("speed", relayconfig.DefaultDifficulty)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		if _, err := pow.SolveV2(&c.Parameters, pow.DeriveKey); err != nil {
			return nil, fmt.Errorf("failed to solve natively: %w", err)
		}
		ms = append(ms, float64(time.Since(start).Microseconds())/1000)
	}
	return ms, nil
}
