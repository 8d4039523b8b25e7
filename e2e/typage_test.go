package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/google/uuid"

	"github.com/reportline/reportline/hotline/intake"
	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/report"
)

// TestTypageReportThroughRelay seals reports with age-encryption (typage,
// an age implementation that is not ours, in Node) to the key `hotline
// keygen` made, and sends them as the form does to a real relay in front
// of a real intake. A padded report is accepted, delivered and opened by
// the intake and by `hotline open`; the same report without padding,
// which is valid age too, is refused by the relay with the reason
// (docs/report-format.md says why) and never reaches the intake.
func TestTypageReportThroughRelay(t *testing.T) {
	nodePath, typage := node(t, "age-encryption", filepath.Join("interop", "testdata", "typage.mjs"))
	s := startFollowStack(t)
	recipient := recipientOf(t, s.identity)

	send := func(env []byte, id string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("POST", s.relay+"/v1/sites/s1/reports/"+id, bytes.NewReader(env))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set(pow.Header, s.proof(t))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	newReport := func(text string) *report.Report {
		return &report.Report{Version: report.Version, ID: uuid.NewString(), Hotline: "h1", Site: "s1",
			Created: time.Now().UTC().Truncate(time.Second), Locale: "en",
			Locations: []report.Location{{Kind: "url", Value: "https://typage.example/" + text}},
			SeenOn:    "website", Content: "image", Category: "csam", Description: text + " «ünïcode»"}
	}
	marshal := func(r *report.Report) []byte {
		b, err := report.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// Without padding: valid age, refused.
	bare := newReport("bare-" + uuid.NewString()[:8])
	env := runNode(t, nodePath, typage, marshal(bare), "encrypt", recipient)
	if code, body := send(env, bare.ID); code != http.StatusUnprocessableEntity || !strings.Contains(body, "bad-envelope") || !strings.Contains(body, "not a padded report") {
		t.Errorf("the relay answered an unpadded report %d %s, want 422 bad-envelope saying it is not a padded report", code, body)
	}

	// Padded, as the format says: accepted and opened at the hotline.
	r := newReport("padded-" + uuid.NewString()[:8])
	plain, err := report.Pad(marshal(r))
	if err != nil {
		t.Fatal(err)
	}
	env = runNode(t, nodePath, typage, plain, "encrypt", recipient)
	if code, body := send(env, r.ID); code != http.StatusAccepted {
		t.Fatalf("the relay answered typage's envelope of a padded report %d %s, want 202", code, body)
	}
	path := filepath.Join(s.inbox, r.ID+".json")
	waitFor(t, deliveryLimit, "report "+r.ID+" stored by the intake", func() (bool, bool) {
		_, err := os.Stat(path)
		return true, err == nil
	})
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var o intake.Opened
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	if o.Report == nil || o.Report.ID != r.ID || o.Report.Description != r.Description || len(o.Problems) > 0 {
		t.Errorf("the intake stored %s", raw)
	}
	stored, err := os.ReadFile(filepath.Join(s.inbox, r.ID+".age"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored, env) {
		t.Error("the intake's .age differs from the envelope typage made")
	}
	out := s.run(t, "hotline", "open", "-identity", s.identity, filepath.Join(s.inbox, r.ID+".age"))
	for _, want := range []string{r.ID, r.Locations[0].Value, r.Description} {
		if !strings.Contains(out, want) {
			t.Errorf("hotline open printed no %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(s.inbox, bare.ID+".json")); !os.IsNotExist(err) {
		t.Errorf("the refused report reached the intake (%v)", err)
	}
}

// recipientOf returns the public key of the identity file's one identity.
func recipientOf(t *testing.T, identityFile string) string {
	t.Helper()
	f, err := os.Open(identityFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ids, err := age.ParseIdentities(f)
	if err != nil {
		t.Fatal(err)
	}
	id, ok := ids[0].(*age.HybridIdentity)
	if len(ids) != 1 || !ok {
		t.Fatalf("%s holds %d identities, want one post-quantum identity", identityFile, len(ids))
	}
	return id.Recipient().String()
}
