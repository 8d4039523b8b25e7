package quietlog

import (
	"testing"
	"time"
)

// TestLimiter: one line a second of each kind, the next one let through
// saying how many were left out; kinds do not share their allowance.
func TestLimiter(t *testing.T) {
	var l Limiter
	now := time.Unix(1_800_000_000, 0)
	if ok, n := l.Allow("a", now); !ok || n != 0 {
		t.Fatalf("first line: %v, %d", ok, n)
	}
	for i := range 10 {
		if ok, _ := l.Allow("a", now.Add(time.Duration(i)*50*time.Millisecond)); ok {
			t.Fatalf("line %d within the second was let through", i)
		}
	}
	if ok, n := l.Allow("b", now); !ok || n != 0 {
		t.Fatalf("another kind: %v, %d", ok, n)
	}
	if ok, n := l.Allow("a", now.Add(Interval)); !ok || n != 10 {
		t.Fatalf("a second later: %v, %d; want let through, 10 left out", ok, n)
	}
	slow := Limiter{Every: time.Minute}
	slow.Allow("a", now)
	if ok, _ := slow.Allow("a", now.Add(Interval)); ok {
		t.Fatal("a limiter of one line a minute let a second one through a second later")
	}
	if ok, n := slow.Allow("a", now.Add(time.Minute)); !ok || n != 1 {
		t.Fatalf("a minute later: %v, %d; want let through, 1 left out", ok, n)
	}
	if got := Args(3, "k", "v"); len(got) != 4 || got[2] != SkippedKey || got[3] != 3 {
		t.Errorf("Args(3, ...) = %v", got)
	}
	if got := Args(0, "k", "v"); len(got) != 2 {
		t.Errorf("Args(0, ...) = %v", got)
	}
}
