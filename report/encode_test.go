package report

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/reportline/reportline/internal/fuzzseed"
)

func TestMarshalMatchesEncodingJSON(t *testing.T) {
	full := sample()
	full.AskedToMeet, full.ImagesExchanged, full.Details = "yes", "unsure", "user <b>&</b>\u2028x"
	full.Minor, full.Urgent, full.AIMade, full.LiveNow, full.Threatened = Minor, "yes", "no", "unsure", "yes"
	full.StillInContact, full.MovedApp, full.ReporterInImages = "no", "yes", "unsure"
	full.ReporterCountry, full.IncidentCountry, full.ReporterUnder18 = "DE", "NL", true
	full.Contact = &Contact{Email: "a@example.org", WantsOutcome: true}
	full.Created = time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC)
	full.FollowUp = &FollowUp{Mailbox: "668fbb402f4cd7a222bc258222969b3f", Check: "FETlnWV-NHUSp8gpjrXd2p6YvcH8i-z3bk7KLIW0B1A", ReplyTo: "AAAA<x>+/"}
	full.InReplyTo = "3f2a91c0-77de-4c1b-9a4e-2b7c5d1e0f88"
	for _, r := range []*Report{sample(), full, {}, {Contact: &Contact{}}, {Locations: []Location{}}, {FollowUp: &FollowUp{}},
		{Description: "tab\there \"q\" \\ \x01 \xff\xfe ünï 🙂"}} {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := Marshal(r)
		if !bytes.Equal(got, want) {
			t.Errorf("Marshal:\n got %s\nwant %s", got, want)
		}
	}
}

func FuzzMarshal(f *testing.F) {
	for _, b := range fuzzseed.Files(f, "*.json") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Report
		if json.Unmarshal(b, &r) != nil {
			return
		}
		want, err := json.Marshal(&r)
		if err != nil {
			return
		}
		if got, _ := Marshal(&r); !bytes.Equal(got, want) {
			t.Fatalf("Marshal differs from encoding/json:\n got %s\nwant %s", got, want)
		}
	})
}
