package relay

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/followup"
	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/relay/mailbox"
	"github.com/reportline/reportline/statement"
)

// followFixture is a relay with a mailbox store, whose hotline h1 has the
// verification key of followup/testdata/signing.key.
func followFixture(t testing.TB) (*fixture, *statement.SigningKey) {
	f, key, _ := followFixtureAt(t)
	return f, key
}

// followFixtureAt is followFixture, and says where the mailbox file is.
func followFixtureAt(t testing.TB) (*fixture, *statement.SigningKey, string) {
	t.Helper()
	return followFixtureWith(t, testAbuse)
}

// followFixtureWith is followFixtureAt with abuse as the [relay.pow] and
// [relay.limits] tables.
func followFixtureWith(t testing.TB, abuse string) (*fixture, *statement.SigningKey, string) {
	t.Helper()
	f := newFixtureWith(t, abuse)
	b, err := os.ReadFile(filepath.Join("..", "followup", "testdata", "signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := statement.ParseSigningKey(b)
	if err != nil {
		t.Fatal(err)
	}
	f.cfg.Hotline("h1").StatementKey = key.VerificationKey()
	path := filepath.Join(t.TempDir(), "mailbox.db")
	m, err := mailbox.Open(path, 90*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	f.srv.SetMailbox(m)
	return f, key, path
}

// sealedReply returns a signed, sealed question for k's mailbox and the
// post body that carries it.
func sealedReply(t *testing.T, key *statement.SigningKey, hotline string, k *followup.Keys, postTime time.Time) []byte {
	t.Helper()
	plain, err := followup.Sign(&followup.Reply{Hotline: hotline, Report: "6f1c2a3e-8b4d-4c5e-9f60-7a1b2c3d4e5f",
		Mailbox: k.Mailbox, Kind: followup.KindQuestion, Sent: postTime, Text: "Which post? " + marker}, key)
	if err != nil {
		t.Fatal(err)
	}
	env, err := followup.Seal(plain, k.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	text, err := followup.SignPost(followup.NewPost(hotline, k.Mailbox, k.Check, env, postTime), key)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(followup.PostBody{Post: string(text), Envelope: base64.StdEncoding.EncodeToString(env)})
	return body
}

func (f *fixture) fetch(t *testing.T, k *followup.Keys) (*httptest.ResponseRecorder, [][]byte) {
	t.Helper()
	body, _ := json.Marshal(followup.FetchBody{Mailbox: k.Mailbox, Key: base64.RawURLEncoding.EncodeToString(k.RequestKey)})
	rec := post(f.srv, "/v1/sites/s1/mailbox", body, HeaderProof, f.proof(t, "s1"), "Content-Type", "application/json")
	if rec.Code != 200 {
		t.Fatalf("fetch: status %d: %s", rec.Code, rec.Body)
	}
	var resp followup.FetchAnswer
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Replies) != followup.Slots {
		t.Fatalf("fetch: %d replies, %v", len(resp.Replies), err)
	}
	var opened [][]byte
	for _, s := range resp.Replies {
		env, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(env) != followup.EnvelopeSize {
			t.Fatalf("a slot is not a %d-byte envelope", followup.EnvelopeSize)
		}
		if plain, err := followup.Open(env, k.Identity); err == nil {
			opened = append(opened, plain)
		}
	}
	return rec, opened
}

func newKeys(t *testing.T) *followup.Keys {
	sec, _ := followup.NewSecret(rand.Reader)
	k, err := followup.Derive(sec)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A hotline's signed reply is stored, fetched with the code's keys (and
// only with them), opens and verifies, and is gone once acknowledged; every fetch answer has the
// same size whatever the code; nothing of it is in the logs.
func TestMailboxRoundTrip(t *testing.T) {
	f, key, path := followFixtureAt(t)
	k := newKeys(t)
	now := time.Now().UTC()
	var pb followup.PostBody
	body := sealedReply(t, key, "h1", k, now)
	json.Unmarshal(body, &pb)
	env, _ := base64.StdEncoding.DecodeString(pb.Envelope)
	if rec := post(f.srv, "/v1/hotlines/h1/replies", body); rec.Code != 201 {
		t.Fatalf("post: status %d: %s", rec.Code, rec.Body)
	}
	// The store holds ciphertext only, and nothing of the sender.
	stored, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(stored, []byte(k.Mailbox)) {
		t.Fatalf("the mailbox file lacks the mailbox; the checks below would prove nothing (%v)", err)
	}
	for _, secret := range []string{marker, "Which post?", "192.0.2.1"} {
		if bytes.Contains(stored, []byte(secret)) {
			t.Errorf("the mailbox file holds %q", secret)
		}
	}
	wrong := newKeys(t)
	wrong.Mailbox = k.Mailbox // knows the mailbox id, not the code
	recWrong, got := f.fetch(t, wrong)
	if len(got) != 0 {
		t.Fatal("a fetch with the wrong request key got a reply")
	}
	rec, got := f.fetch(t, k)
	if len(got) != 1 {
		t.Fatalf("opened %d replies, want 1", len(got))
	}
	r, err := followup.ParseReply(got[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(key.VerificationKey()); err != nil || r.CheckFor("h1", k.Mailbox) != nil {
		t.Fatalf("the fetched reply does not verify: %v", err)
	}
	if rec := f.ack(t, k, env); rec.Code != 200 {
		t.Fatalf("ack: status %d: %s", rec.Code, rec.Body)
	}
	recAgain, got := f.fetch(t, k)
	if len(got) != 0 {
		t.Fatal("a read and acknowledged reply was given out again")
	}
	_, unknown := f.fetch(t, newKeys(t))
	if len(unknown) != 0 {
		t.Fatal("an unknown code opened something")
	}
	if rec.Body.Len() != recWrong.Body.Len() || rec.Body.Len() != recAgain.Body.Len() {
		t.Fatalf("answers differ in size: %d with a reply, %d for a wrong key, %d empty", rec.Body.Len(), recWrong.Body.Len(), recAgain.Body.Len())
	}
	if !strings.Contains(f.logs.String(), "reply stored") {
		t.Fatalf("no log of the post; the check below would prove nothing:\n%s", f.logs)
	}
	for _, secret := range []string{k.Mailbox, k.Check, base64.RawURLEncoding.EncodeToString(k.RequestKey), marker} {
		if strings.Contains(f.logs.String(), secret) {
			t.Errorf("the logs hold %q", secret)
		}
	}
}

func TestMailboxRefuses(t *testing.T) {
	f, key := followFixture(t)
	k := newKeys(t)
	now := time.Now().UTC()
	other, _ := statement.GenerateKey()
	good := sealedReply(t, key, "h1", k, now)
	var tampered followup.PostBody
	json.Unmarshal(sealedReply(t, key, "h1", k, now), &tampered)
	env, _ := base64.StdEncoding.DecodeString(tampered.Envelope)
	env[len(env)-1] ^= 1
	tampered.Envelope = base64.StdEncoding.EncodeToString(env)
	tamperedBody, _ := json.Marshal(tampered)
	for name, c := range map[string]struct {
		path string
		body []byte
		want int
		kind string
	}{
		"other key":     {"/v1/hotlines/h1/replies", sealedReply(t, other, "h1", k, now), 403, "bad-signature"},
		"other hotline": {"/v1/hotlines/h1/replies", sealedReply(t, key, "h2", k, now), 400, "bad-post"},
		"stale":         {"/v1/hotlines/h1/replies", sealedReply(t, key, "h1", k, now.Add(-time.Hour)), 403, "stale-post"},
		"tampered":      {"/v1/hotlines/h1/replies", tamperedBody, 400, "bad-post"},
		"not json":      {"/v1/hotlines/h1/replies", []byte("x"), 400, "bad-post"},
		"unknown":       {"/v1/hotlines/nope/replies", good, 404, "unknown-hotline"},
		"no proof":      {"/v1/sites/s1/mailbox", []byte(`{}`), 403, "pow-required"},
	} {
		rec := post(f.srv, c.path, c.body)
		if rec.Code != c.want || !strings.Contains(rec.Body.String(), c.kind) {
			t.Errorf("%s: status %d %s, want %d %s", name, rec.Code, rec.Body, c.want, c.kind)
		}
	}
	if rec := post(f.srv, "/v1/hotlines/h1/replies", good); rec.Code != 201 {
		t.Fatalf("post: %d %s", rec.Code, rec.Body)
	}
	if rec := post(f.srv, "/v1/hotlines/h1/replies", good); rec.Code != 409 || !strings.Contains(rec.Body.String(), "reply-replayed") {
		t.Fatalf("a replayed post: %d %s", rec.Code, rec.Body)
	}
	f.cfg.Hotline("h1").StatementKey = ""
	if rec := post(f.srv, "/v1/hotlines/h1/replies", good); rec.Code != 403 || !strings.Contains(rec.Body.String(), "no-statement-key") {
		t.Fatalf("a hotline without a key: %d %s", rec.Code, rec.Body)
	}
	bad := post(f.srv, "/v1/sites/s1/mailbox", []byte(`{"mailbox":"x"}`), HeaderProof, f.proof(t, "s1"))
	if bad.Code != 400 || !bytes.Contains(bad.Body.Bytes(), []byte("bad-fetch")) {
		t.Fatalf("a malformed fetch: %d %s", bad.Code, bad.Body)
	}
}

func TestMailboxOff(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/v1/sites/s1/mailbox", "/v1/hotlines/h1/replies"} {
		if rec := post(f.srv, path, []byte("{}")); rec.Code != 404 || !strings.Contains(rec.Body.String(), "follow-up-off") {
			t.Errorf("%s without a mailbox: %d %s", path, rec.Code, rec.Body)
		}
	}
}

// ack fetches k's mailbox acknowledging the sealed replies envs, and
// returns the answer.
func (f *fixture) ack(t *testing.T, k *followup.Keys, envs ...[]byte) *httptest.ResponseRecorder {
	t.Helper()
	a := followup.FetchBody{Mailbox: k.Mailbox, Key: base64.RawURLEncoding.EncodeToString(k.RequestKey)}
	for _, env := range envs {
		a.Ack = append(a.Ack, followup.EnvelopeID(env))
	}
	body, _ := json.Marshal(a)
	return post(f.srv, "/v1/sites/s1/mailbox", body, HeaderProof, f.proof(t, "s1"), "Content-Type", "application/json")
}

// A fetch whose answer never reaches the reporter loses nothing: the
// reply stays until the reporter's side acknowledges it in a later fetch,
// and only an acknowledgement with the code's request key removes it.
// Every acknowledging fetch gets an answer of the same size, whatever the
// code.
func TestMailboxKeepsUntilAcknowledged(t *testing.T) {
	f, key := followFixture(t)
	k := newKeys(t)
	now := time.Now().UTC()
	var pb followup.PostBody
	body := sealedReply(t, key, "h1", k, now)
	json.Unmarshal(body, &pb)
	env, _ := base64.StdEncoding.DecodeString(pb.Envelope)
	if rec := post(f.srv, "/v1/hotlines/h1/replies", body); rec.Code != 201 {
		t.Fatalf("post: status %d: %s", rec.Code, rec.Body)
	}
	f.fetch(t, k) // the answer is lost on the way
	if _, got := f.fetch(t, k); len(got) != 1 {
		t.Fatalf("after a fetch whose answer was lost, a second fetch opened %d replies, want the one posted", len(got))
	}
	wrong := newKeys(t)
	wrong.Mailbox = k.Mailbox // knows the mailbox id, not the code
	recWrong := f.ack(t, wrong, env)
	recUnknown := f.ack(t, newKeys(t), env)
	if _, got := f.fetch(t, k); len(got) != 1 {
		t.Fatal("an acknowledgement with the wrong request key removed the reply")
	}
	rec := f.ack(t, k, env)
	if rec.Code != 200 {
		t.Fatalf("ack: status %d: %s", rec.Code, rec.Body)
	}
	for name, r := range map[string]*httptest.ResponseRecorder{"wrong key": recWrong, "unknown code": recUnknown} {
		if r.Code != rec.Code || r.Body.Len() != rec.Body.Len() {
			t.Errorf("%s: ack answered %d with %d bytes, the right code %d with %d", name, r.Code, r.Body.Len(), rec.Code, rec.Body.Len())
		}
	}
	if _, got := f.fetch(t, k); len(got) != 0 {
		t.Fatal("an acknowledged reply was given out again")
	}
	for name, c := range map[string]string{
		"bad id":     `{"mailbox":"` + k.Mailbox + `","key":"` + base64.RawURLEncoding.EncodeToString(k.RequestKey) + `","ack":["zz"]}`,
		"upper case": `{"mailbox":"` + k.Mailbox + `","key":"` + base64.RawURLEncoding.EncodeToString(k.RequestKey) + `","ack":["` + strings.ToUpper(followup.EnvelopeID(env)) + `"]}`,
		"too many":   `{"mailbox":"` + k.Mailbox + `","key":"` + base64.RawURLEncoding.EncodeToString(k.RequestKey) + `","ack":["` + strings.Repeat(followup.EnvelopeID(env)+`","`, followup.Slots) + followup.EnvelopeID(env) + `"]}`,
		"not a list": `{"mailbox":"` + k.Mailbox + `","key":"` + base64.RawURLEncoding.EncodeToString(k.RequestKey) + `","ack":"` + followup.EnvelopeID(env) + `"}`,
	} {
		if r := post(f.srv, "/v1/sites/s1/mailbox", []byte(c), HeaderProof, f.proof(t, "s1")); r.Code != 400 || !strings.Contains(r.Body.String(), "bad-fetch") {
			t.Errorf("%s: the fetch answered %d %s, want 400 bad-fetch", name, r.Code, r.Body)
		}
	}
}

// spends records what a relay spends proofs on, as the cluster's shared
// bucket of spent proofs does.
type spends struct{ ids []string }

func (s *spends) Spend(p pow.Proof, id string) error {
	s.ids = append(s.ids, id)
	return nil
}

// A proof of work admits one fetch, even of the same mailbox, and the
// record of spent proofs (which the cluster keeps for the proofs'
// lifetime) names no mailbox: a fetch leaves nothing that outlives an
// acknowledged mailbox.
func TestFetchSpendsItsProof(t *testing.T) {
	f, _ := followFixture(t)
	sp := &spends{}
	if err := f.srv.ShareProofs(pow.RandomKey(), sp); err != nil {
		t.Fatal(err)
	}
	k := newKeys(t)
	body, _ := json.Marshal(followup.FetchBody{Mailbox: k.Mailbox, Key: base64.RawURLEncoding.EncodeToString(k.RequestKey)})
	proof := f.proof(t, "s1")
	if rec := post(f.srv, "/v1/sites/s1/mailbox", body, HeaderProof, proof); rec.Code != 200 {
		t.Fatalf("fetch: %d %s", rec.Code, rec.Body)
	}
	if rec := post(f.srv, "/v1/sites/s1/mailbox", body, HeaderProof, proof); rec.Code != 403 || !strings.Contains(rec.Body.String(), "pow-used") {
		t.Fatalf("the same proof for a second fetch: %d %s, want 403 pow-used", rec.Code, rec.Body)
	}
	if len(sp.ids) == 0 {
		t.Fatal("no proof was spent in the shared store; the check below proves nothing")
	}
	for _, id := range sp.ids {
		if strings.Contains(id, k.Mailbox) {
			t.Errorf("a spent proof is recorded as %q, which names the mailbox", id)
		}
	}
}

// TestReplyRateLimit: a sender over its per-client allowance of reply
// posts gets 429 rate-limited, with Retry-After, as a problem, and nothing
// is stored; another client has its own allowance, and so do the
// sender's challenges; no client address reaches the logs.
func TestReplyRateLimit(t *testing.T) {
	f, key, _ := followFixtureWith(t, `
[relay.pow]
difficulty = 64
cost = 1
v1_difficulty = 64
[relay.limits]
replies_per_minute = 1
reply_burst = 2
challenges_per_minute = 1
challenge_burst = 1
`)
	const sender, other = "203.0.113.7:4000", "198.51.100.9:4000"
	postFrom := func(addr string, body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/v1/hotlines/h1/replies", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.RemoteAddr = addr
		rec := httptest.NewRecorder()
		f.srv.ServeHTTP(rec, req)
		return rec
	}
	now := time.Now().UTC()
	for i := range 2 {
		if rec := postFrom(sender, sealedReply(t, key, "h1", newKeys(t), now)); rec.Code != 201 {
			t.Fatalf("post %d within the burst: %d %s", i+1, rec.Code, rec.Body)
		}
	}
	over := newKeys(t)
	rec := postFrom(sender, sealedReply(t, key, "h1", over, now))
	if rec.Code != 429 {
		t.Fatalf("a post over the burst: %d %s, want 429", rec.Code, rec.Body)
	}
	if ra, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || ra < 1 || ra > 60 {
		t.Errorf("Retry-After %q, want 1 to 60 seconds", rec.Header().Get("Retry-After"))
	}
	var p struct{ Type, Detail string }
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" || json.Unmarshal(rec.Body.Bytes(), &p) != nil ||
		!strings.HasSuffix(p.Type, "/rate-limited") || p.Detail == "" {
		t.Errorf("the refusal is %q %s, want a rate-limited problem", ct, rec.Body)
	}
	if _, opened := f.fetch(t, over); len(opened) != 0 {
		t.Errorf("the refused post was stored: %d replies in its mailbox", len(opened))
	}
	if rec := postFrom(other, sealedReply(t, key, "h1", newKeys(t), now)); rec.Code != 201 {
		t.Errorf("another client's post: %d %s, want 201", rec.Code, rec.Body)
	}
	// Posts have their own allowance, apart from challenges: the sender's
	// one challenge is granted after its posts were limited, and its
	// second is refused by the challenges' own limit, which the posts
	// (two, over a burst of one challenge) did not use up.
	for i, want := range []int{200, 429} {
		req := httptest.NewRequest("GET", "/v1/sites/s1/challenge", nil)
		req.RemoteAddr = sender
		ch := httptest.NewRecorder()
		f.srv.ServeHTTP(ch, req)
		if ch.Code != want {
			t.Errorf("the sender's challenge %d after its posts were limited: %d, want %d", i+1, ch.Code, want)
		}
	}
	if !strings.Contains(f.logs.String(), "reply stored") {
		t.Fatalf("the logs lack the stored posts; the check below would prove nothing:\n%s", f.logs)
	}
	for _, addr := range []string{"203.0.113.7", "198.51.100.9"} {
		if strings.Contains(f.logs.String(), addr) {
			t.Errorf("the logs name the client %s:\n%s", addr, f.logs)
		}
	}
}
