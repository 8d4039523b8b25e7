package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/reportline/reportline/followup"
	"github.com/reportline/reportline/pow"
	"github.com/reportline/reportline/statement"
)

// TestClusterMailbox: with relay.mailbox = "jetstream" the mailboxes are
// the cluster's, as the reports are: a reply posted at one relay is
// fetched at the other, stays there after a fetch whose answer was lost,
// and is gone everywhere once acknowledged at the first.
func TestClusterMailbox(t *testing.T) {
	key, err := statement.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	c := newClusterSetupWith(t, func(cfg string) string {
		cfg = strings.Replace(cfg, "[relay]\n", "[relay]\nmailbox = \"jetstream\"\n", 1)
		return strings.Replace(cfg, "id = \"h1\"\n", "id = \"h1\"\nstatement_key = \""+key.VerificationKey()+"\"\n", 1)
	})
	sec, _ := followup.NewSecret(rand.Reader)
	k, _ := followup.Derive(sec)
	now := time.Now().UTC()
	plain, err := followup.Sign(&followup.Reply{Hotline: "h1", Report: "6f1c2a3e-8b4d-4c5e-9f60-7a1b2c3d4e5f", Mailbox: k.Mailbox,
		Kind: followup.KindAcknowledgement, Sent: now, Text: "We got your report."}, key)
	if err != nil {
		t.Fatal(err)
	}
	env, err := followup.Seal(plain, k.Recipient)
	if err != nil {
		t.Fatal(err)
	}
	postText, err := followup.SignPost(followup.NewPost("h1", k.Mailbox, k.Check, env, now), key)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(followup.PostBody{Post: string(postText), Envelope: base64.StdEncoding.EncodeToString(env)})
	resp, err := reportClient.Post("http://"+c.relays[0].addr+"/v1/hotlines/h1/replies", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("post at relay 0: %s\n%s", resp.Status, c.relays[0].logs)
	}
	fetch := func(at int, ack ...string) int {
		t.Helper()
		proof, err := c.proof(at)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(followup.FetchBody{Mailbox: k.Mailbox, Key: base64.RawURLEncoding.EncodeToString(k.RequestKey), Ack: ack})
		req, _ := http.NewRequest("POST", "http://"+c.relays[at].addr+"/v1/sites/s1/mailbox", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(pow.Header, proof)
		resp, err := reportClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var a followup.FetchAnswer
		if resp.StatusCode != 200 || json.Unmarshal(raw, &a) != nil {
			t.Fatalf("fetch at relay %d: %d %.300s", at, resp.StatusCode, raw)
		}
		n := 0
		for _, v := range a.Replies {
			e, _ := base64.StdEncoding.DecodeString(v)
			if _, err := followup.Open(e, k.Identity); err == nil {
				n++
			}
		}
		return n
	}
	if n := fetch(1); n != 1 {
		t.Fatalf("relay 1 gave %d replies for the reply posted at relay 0, want 1", n)
	}
	if n := fetch(1); n != 1 {
		t.Fatalf("after a fetch whose answer was lost, relay 1 gave %d replies, want 1", n)
	}
	if n := fetch(0, followup.EnvelopeID(env)); n != 0 {
		t.Fatalf("the acknowledging fetch at relay 0 gave %d replies, want 0", n)
	}
	if n := fetch(1); n != 0 {
		t.Fatalf("relay 1 still gave %d replies after the acknowledgement at relay 0", n)
	}
}
