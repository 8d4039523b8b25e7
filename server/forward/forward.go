// Package forward delivers stored reports from the relay's spool to each
// hotline's intake, signed per Standard Webhooks, as specified in
// docs/delivery.md.
//
// Delivery is at least once: a report leaves the spool only after the
// intake answered 2xx, and the intake de-duplicates by report id, so each
// report lands exactly once. Failures are retried with exponential backoff
// and jitter; a report that cannot be delivered within the configured age,
// or whose endpoint answered 410 Gone, moves to the dead-letter area.
package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/reportline/reportline/server/spool"
	"github.com/reportline/reportline/server/webhook"
)

// EventType is the Standard Webhooks event type of a delivered report.
const EventType = "report.received"

// Payload is the JSON body of a delivery.
type Payload struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      Data      `json:"data"`
}

// Data is a delivered report: its envelope and the routing metadata the
// relay knows. Nothing about the reporter.
type Data struct {
	ID       string    `json:"id"`
	Hotline  string    `json:"hotline"`
	Site     string    `json:"site"`
	Received time.Time `json:"received"`
	// Envelope is the age file, standard base64.
	Envelope []byte `json:"envelope"`
}

// Forwarder moves reports from the spool to the hotlines.
type Forwarder struct {
	Spool  *spool.Spool
	Client *http.Client
	Signer webhook.Signer
	// IntakeURL returns the intake URL of a hotline id.
	IntakeURL func(hotline string) (string, bool)
	Log       *slog.Logger
	// MinBackoff is the delay after the first failure; it doubles with each
	// further failure up to MaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// MaxAge is how long after acceptance a report is retried before it is
	// moved to the dead-letter area.
	MaxAge time.Duration
	// Workers is how many deliveries run at once.
	Workers int

	wakeOnce sync.Once
	wake     chan struct{}
}

func (f *Forwarder) init() {
	f.wakeOnce.Do(func() { f.wake = make(chan struct{}, 1) })
}

// Notify wakes the forwarder after a report was stored.
func (f *Forwarder) Notify() {
	f.init()
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done, then lets in-flight deliveries finish.
func (f *Forwarder) Run(ctx context.Context) {
	f.init()
	for {
		n, err := f.deliverDue(ctx)
		if err != nil {
			f.Log.Error("failed to read the spool", "err", err)
		}
		if n > 0 {
			continue
		}
		wait := time.Minute
		if next, ok, err := f.Spool.NextDue(); err == nil && ok {
			wait = min(wait, max(time.Until(next), 10*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-f.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// deliverDue delivers one batch of due reports and returns how many it
// tried.
func (f *Forwarder) deliverDue(ctx context.Context) (int, error) {
	if ctx.Err() != nil {
		return 0, nil
	}
	workers := max(f.Workers, 1)
	due, err := f.Spool.Due(time.Now(), workers*4)
	if err != nil || len(due) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, workers)
	var wg sync.WaitGroup
	for _, e := range due {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			// A delivery under way is finished even while shutting down,
			// bounded by the client's timeout.
			f.deliver(context.WithoutCancel(ctx), e)
		}()
	}
	wg.Wait()
	return len(due), nil
}

func (f *Forwarder) deliver(ctx context.Context, e spool.Entry) {
	log := f.Log.With("report", e.ID, "hotline", e.Hotline, "attempt", e.Attempts+1)
	url, ok := f.IntakeURL(e.Hotline)
	if !ok {
		f.retry(log, e, "no such hotline in the configuration", 0)
		return
	}
	status, retryAfter, err := f.post(ctx, url, e)
	switch {
	case err == nil && status >= 200 && status < 300:
		if err := f.Spool.Delete(e.ID); err != nil {
			log.Error("delivered, but failed to remove from the spool; it will be delivered again and de-duplicated", "err", err)
			return
		}
		log.Info("report delivered", "status", status, "queued", time.Since(e.Received).Round(time.Second).String())
	case err == nil && status == http.StatusGone:
		log.Error("intake answered 410 Gone: report moved to the dead-letter area; fix the hotline's intake_url, then `relay spool retry`")
		if err := f.Spool.Bury(e.ID, "intake answered 410 Gone"); err != nil {
			log.Error("failed to move report to the dead-letter area", "err", err)
		}
	case err != nil:
		f.retry(log, e, err.Error(), retryAfter)
	default:
		f.retry(log, e, "intake answered "+strconv.Itoa(status), retryAfter)
	}
}

func (f *Forwarder) retry(log *slog.Logger, e spool.Entry, reason string, retryAfter time.Duration) {
	if f.MaxAge > 0 && time.Since(e.Received) > f.MaxAge {
		log.Error("report undeliverable: moved to the dead-letter area", "reason", reason)
		if err := f.Spool.Bury(e.ID, reason); err != nil {
			log.Error("failed to move report to the dead-letter area", "err", err)
		}
		return
	}
	delay := max(f.Backoff(e.Attempts), retryAfter)
	log.Warn("delivery failed, will retry", "reason", reason, "in", delay.Round(time.Second).String())
	if err := f.Spool.Reschedule(e.ID, time.Now().Add(delay), reason); err != nil {
		log.Error("failed to reschedule", "err", err)
	}
}

// Backoff returns the delay before the next attempt after the given number
// of earlier attempts: MinBackoff doubled per attempt, capped at MaxBackoff,
// with ±25 % jitter so that many reports do not retry in step.
func (f *Forwarder) Backoff(attempts int) time.Duration {
	d := f.MinBackoff
	for i := 0; i < attempts && d < f.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, f.MaxBackoff)
	jitter := time.Duration(rand.Int64N(int64(d)/2+1)) - d/4
	return d + jitter
}

func (f *Forwarder) post(ctx context.Context, url string, e spool.Entry) (int, time.Duration, error) {
	now := time.Now()
	body, err := json.Marshal(Payload{Type: EventType, Timestamp: now.UTC().Truncate(time.Second), Data: Data{
		ID: e.ID, Hotline: e.Hotline, Site: e.Site, Received: e.Received, Envelope: e.Body,
	}})
	if err != nil {
		return 0, 0, fmt.Errorf("failed to encode delivery: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, fmt.Errorf("failed to make delivery request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "reportline-relay")
	if err := webhook.SetHeaders(req.Header, f.Signer, e.ID, now, body); err != nil {
		return 0, 0, fmt.Errorf("failed to sign delivery: %w", err)
	}
	resp, err := f.Client.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("failed to reach the intake: %w", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After"), now), nil
}

// parseRetryAfter reads a Retry-After header (seconds or an HTTP date),
// capped at a day.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, 24*time.Hour))
}
