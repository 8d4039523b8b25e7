package reply

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/followup"
	"github.com/reportline/reportline/report"
	"github.com/reportline/reportline/statement"
)

func setup(t *testing.T) (*statement.SigningKey, *followup.Keys, *report.Report) {
	t.Helper()
	b, err := os.ReadFile("../../followup/testdata/signing.key")
	if err != nil {
		t.Fatal(err)
	}
	key, err := statement.ParseSigningKey(b)
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := followup.NewSecret(rand.Reader)
	k, err := followup.Derive(sec)
	if err != nil {
		t.Fatal(err)
	}
	r := &report.Report{ID: "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88", Hotline: "de-hotline",
		FollowUp: &report.FollowUp{Mailbox: k.Mailbox, Check: k.Check, ReplyTo: k.Recipient}}
	return key, k, r
}

// Send posts what a relay can check and a reporter can read: the post
// verifies with the hotline's key and names the envelope; the envelope
// opens with the identity derived from the reporter's code, to a reply
// signed by the hotline for that mailbox.
func TestSend(t *testing.T) {
	key, k, r := setup(t)
	var got followup.PostBody
	var path string
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		path = req.URL.Path
		json.NewDecoder(req.Body).Decode(&got)
		w.WriteHeader(http.StatusCreated)
	}))
	defer relay.Close()
	s := &Sender{Relay: relay.URL + "/", Hotline: "de-hotline", Key: key}
	if _, err := s.Send(context.Background(), r, followup.KindQuestion, "Which post?"); err != nil {
		t.Fatal(err)
	}
	if path != "/v1/hotlines/de-hotline/replies" {
		t.Fatalf("posted to %s", path)
	}
	post, err := followup.ParsePost([]byte(got.Post))
	if err != nil {
		t.Fatal(err)
	}
	env, _ := base64.StdEncoding.DecodeString(got.Envelope)
	if err := post.Verify(key.VerificationKey()); err != nil || !post.Covers(env) || post.Mailbox != k.Mailbox || post.Check != k.Check {
		t.Fatalf("the post does not verify or cover the envelope: %v", err)
	}
	plain, err := followup.Open(env, k.Identity)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := followup.ParseReply(plain)
	if err != nil {
		t.Fatal(err)
	}
	if err := rp.Verify(key.VerificationKey()); err != nil || rp.CheckFor("de-hotline", k.Mailbox) != nil || rp.Text != "Which post?" || rp.Report != r.ID {
		t.Fatalf("the reporter would read %+v (%v)", rp, err)
	}
}

func TestSendRefuses(t *testing.T) {
	key, _, r := setup(t)
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusConflict)
		w.Write([]byte(`{"title":"Mailbox full","detail":"four unread \u001b[31mreplies"}`))
	}))
	defer relay.Close()
	s := &Sender{Relay: relay.URL, Hotline: "de-hotline", Key: key, Now: func() time.Time { return time.Now() }}
	_, err := s.Send(context.Background(), r, followup.KindOutcome, "Removed.")
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "Mailbox full") || strings.Contains(err.Error(), "\x1b") {
		t.Fatalf("Send = %v, want the relay's refusal, escaped", err)
	}
	r2 := *r
	r2.FollowUp = nil
	if _, err := s.Send(context.Background(), &r2, followup.KindOutcome, "x"); !errors.Is(err, ErrNoFollowUp) {
		t.Fatalf("a report without follow-up: %v", err)
	}
	if _, err := s.Send(context.Background(), r, "threat", "x"); !errors.Is(err, followup.ErrMalformed) {
		t.Fatalf("an unknown kind: %v", err)
	}
	r3 := *r
	r3.Hotline = "fr-hotline"
	if _, err := s.Send(context.Background(), &r3, followup.KindOutcome, "x"); err == nil {
		t.Fatal("replied to another hotline's report")
	}
}
