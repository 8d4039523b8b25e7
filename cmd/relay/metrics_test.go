package main

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMetricsPrivateByDefault: the relay's public listener does not serve
// /metrics, whose counters would tell anyone when each report arrives and
// tell a bot that the honeypot caught it; metrics_listen serves it, and
// metrics_on_listen puts it on the main listener only when asked.
func TestMetricsPrivateByDefault(t *testing.T) {
	client := &http.Client{Timeout: time.Minute}
	metricsAt := func(t *testing.T, base string) (int, string) {
		t.Helper()
		code, body, _, err := get(client, base+"/metrics")
		if err != nil {
			t.Fatal(err)
		}
		return code, body
	}
	for _, tt := range []struct {
		name, extra string
		main        int // the main listener's answer to /metrics
		apart       bool
	}{
		{"default", "", 404, false},
		{"metrics_listen", `metrics_listen = "127.0.0.1:0"`, 404, true},
		{"metrics_on_listen", `metrics_on_listen = true`, 200, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t)
			s.write(t, tt.extra, "")
			r := start(t, s)
			code, body := metricsAt(t, "http://"+r.addr("http"))
			if code != tt.main {
				t.Fatalf("/metrics on the main listener: %d, want %d: %.200s", code, tt.main, body)
			}
			if code == 200 && !strings.Contains(body, "reportline_config_loaded 1") {
				t.Errorf("/metrics served without the relay's metrics: %.200s", body)
			}
			if code == 404 && !strings.Contains(body, "metrics_listen") {
				t.Errorf("the 404 does not say where metrics are served: %s", body)
			}
			if !tt.apart {
				if a := r.addr("metrics"); a != "" {
					t.Fatalf("a metrics listener on %s without metrics_listen", a)
				}
				return
			}
			if code, body := metricsAt(t, "http://"+r.addr("metrics")); code != 200 || !strings.Contains(body, "reportline_config_loaded 1") {
				t.Fatalf("/metrics on metrics_listen: %d %.200s", code, body)
			}
		})
	}
}
