package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto"
	"github.com/chromedp/cdproto/cdp/jsonv2"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
)

// tap is the connection to one Chromium, put between chromedp and the
// websocket. chromedp talks to the tab; the report frame is cross-site, so
// Chromium runs it in another process as an "iframe" target, which the tab
// auto-attaches in a session chromedp does not route. The tap takes that
// session: with waitForDebuggerOnStart the frame waits before its document
// exists, the tap installs the frame's probe script (before the frame's own
// scripts, as Page.addScriptToEvaluateOnNewDocument does for the tab) and
// then lets it run. It also sees every network request of every session.
type tap struct {
	chromedp.Transport
	frameScript string // evaluated in every new iframe document before its scripts

	next    atomic.Int64 // ids of the tap's own commands, far above chromedp's
	mu      sync.Mutex
	pending map[int64]chan *cdproto.Message
	frames  []*frameSession
	reqs    []request
	errs    []error // what went wrong attaching to a frame
}

// ownIDs is where the tap's command ids start; chromedp counts from 1.
const ownIDs = 1 << 30 // Chromium reads ids as 32-bit integers

// request is one request seen on any session.
type request struct {
	session string
	id      string
	url     string
	at      time.Time
	cached  bool // served from the memory or disk cache
}

// frameSession is an auto-attached iframe target.
type frameSession struct {
	id       string // the CDP session id
	target   string
	attached time.Time
	ready    chan struct{} // closed once the probe is installed and the frame runs
	pause    time.Duration // attach → the tap lets the frame run; valid once ready
	detached atomic.Bool
}

func newTap(tr chromedp.Transport, frameScript string) *tap {
	t := &tap{Transport: tr, frameScript: frameScript, pending: map[int64]chan *cdproto.Message{}}
	t.next.Store(ownIDs)
	return t
}

// Read passes every message on to chromedp, except the replies to the tap's
// own commands, and notes the ones the tap acts on.
func (t *tap) Read(ctx context.Context, msg *cdproto.Message) error {
	for {
		*msg = cdproto.Message{}
		if err := t.Transport.Read(ctx, msg); err != nil {
			return err
		}
		if msg.ID >= ownIDs {
			t.mu.Lock()
			ch := t.pending[msg.ID]
			delete(t.pending, msg.ID)
			t.mu.Unlock()
			if ch != nil {
				cp := *msg
				cp.Result = slices.Clone(msg.Result)
				ch <- &cp
			}
			continue
		}
		t.note(msg)
		return nil
	}
}

// note records requests and takes over new iframe targets.
func (t *tap) note(msg *cdproto.Message) {
	switch msg.Method {
	case "Target.attachedToTarget":
		var ev struct {
			SessionID  string `json:"sessionId"`
			TargetInfo struct {
				TargetID string `json:"targetId"`
				Type     string `json:"type"`
			} `json:"targetInfo"`
			Waiting bool `json:"waitingForDebugger"`
		}
		if json.Unmarshal(msg.Params, &ev) != nil {
			return
		}
		f := &frameSession{id: ev.SessionID, target: ev.TargetInfo.TargetID, attached: time.Now(), ready: make(chan struct{})}
		if ev.TargetInfo.Type == "iframe" {
			t.mu.Lock()
			t.frames = append(t.frames, f)
			t.mu.Unlock()
		}
		// Not on this goroutine: the replies come through Read.
		go t.takeOver(f, ev.TargetInfo.Type == "iframe", ev.Waiting)
	case "Target.detachedFromTarget":
		var ev struct {
			SessionID string `json:"sessionId"`
		}
		if json.Unmarshal(msg.Params, &ev) == nil {
			t.mu.Lock()
			for _, f := range t.frames {
				if f.id == ev.SessionID {
					f.detached.Store(true)
				}
			}
			t.mu.Unlock()
		}
	case "Network.requestWillBeSent":
		var ev struct {
			RequestID string `json:"requestId"`
			Request   struct {
				URL string `json:"url"`
			} `json:"request"`
		}
		if json.Unmarshal(msg.Params, &ev) == nil {
			t.mu.Lock()
			t.reqs = append(t.reqs, request{session: string(msg.SessionID), id: ev.RequestID, url: ev.Request.URL, at: time.Now()})
			t.mu.Unlock()
		}
	case "Network.responseReceived", "Network.requestServedFromCache":
		var ev struct {
			RequestID string `json:"requestId"`
			Response  struct {
				FromDiskCache   bool `json:"fromDiskCache"`
				FromMemoryCache bool `json:"fromMemoryCache"`
			} `json:"response"`
		}
		if json.Unmarshal(msg.Params, &ev) == nil {
			cached := msg.Method == "Network.requestServedFromCache" || ev.Response.FromDiskCache || ev.Response.FromMemoryCache
			t.mu.Lock()
			for i := len(t.reqs) - 1; i >= 0; i-- {
				if t.reqs[i].id == ev.RequestID && t.reqs[i].session == string(msg.SessionID) {
					t.reqs[i].cached = t.reqs[i].cached || cached
					break
				}
			}
			t.mu.Unlock()
		}
	}
}

// takeOver installs the probe in a new iframe target, turns on its network
// events, and lets it run if it waits. Any other target that waits (a
// worker) is only let run.
func (t *tap) takeOver(f *frameSession, iframe, waiting bool) {
	defer close(f.ready)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if iframe {
		steps := []struct {
			method string
			params any
		}{
			{"Network.enable", struct{}{}},
			{"Page.enable", struct{}{}},
			{"Page.addScriptToEvaluateOnNewDocument", map[string]any{"source": t.frameScript}},
		}
		for _, s := range steps {
			if _, err := t.call(ctx, f.id, s.method, s.params); err != nil {
				t.fail(fmt.Errorf("failed to prepare the frame: %s: %w", s.method, err))
				break
			}
		}
	}
	f.pause = time.Since(f.attached)
	if waiting {
		if _, err := t.call(ctx, f.id, "Runtime.runIfWaitingForDebugger", struct{}{}); err != nil {
			t.fail(fmt.Errorf("failed to resume a new target: %w", err))
		}
	}
}

func (t *tap) fail(err error) {
	t.mu.Lock()
	t.errs = append(t.errs, err)
	t.mu.Unlock()
}

// err returns what went wrong taking over frames, if anything.
func (t *tap) err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return errors.Join(t.errs...)
}

// call sends a command on a session and waits for its reply.
func (t *tap) call(ctx context.Context, session, method string, params any) (json.RawMessage, error) {
	b, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	id := t.next.Add(1)
	ch := make(chan *cdproto.Message, 1)
	t.mu.Lock()
	t.pending[id] = ch
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.pending, id)
		t.mu.Unlock()
	}()
	msg := &cdproto.Message{ID: id, SessionID: target.SessionID(session), Method: cdproto.MethodType(method), Params: jsonv2.Value(b)}
	if err := t.Transport.Write(ctx, msg); err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	case reply := <-ch:
		if reply.Error != nil {
			return nil, fmt.Errorf("%s: %s (%d)", method, reply.Error.Message, reply.Error.Code)
		}
		return json.RawMessage(reply.Result), nil
	}
}

// eval evaluates a JavaScript expression in a frame session and decodes its
// value, which must be JSON, into v.
func (t *tap) eval(ctx context.Context, f *frameSession, expr string, v any) error {
	<-f.ready
	res, err := t.call(ctx, f.id, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
	if err != nil {
		return err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	if r.Exception != nil {
		return fmt.Errorf("in the frame: %s %s", r.Exception.Text, r.Exception.Exception.Description)
	}
	if len(r.Result.Value) == 0 {
		return errors.New("in the frame: the expression has no JSON value")
	}
	return json.Unmarshal(r.Result.Value, v)
}

// frameAfter waits for the first iframe target attached after since.
func (t *tap) frameAfter(ctx context.Context, since time.Time) (*frameSession, error) {
	for {
		t.mu.Lock()
		for _, f := range t.frames {
			if !f.attached.Before(since) && !f.detached.Load() {
				t.mu.Unlock()
				return f, nil
			}
		}
		t.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("no report frame appeared: %w", ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// framesSince counts the iframe targets attached at or after since.
func (t *tap) framesSince(since time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, f := range t.frames {
		if !f.attached.Before(since) {
			n++
		}
	}
	return n
}

// requests returns the requests seen from since until before.
func (t *tap) requests(since, before time.Time) []request {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []request
	for _, r := range t.reqs {
		if !r.at.Before(since) && r.at.Before(before) {
			out = append(out, r)
		}
	}
	return out
}

// lastRequest returns when the last request was seen.
func (t *tap) lastRequest() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.reqs) == 0 {
		return time.Time{}
	}
	return t.reqs[len(t.reqs)-1].at
}
