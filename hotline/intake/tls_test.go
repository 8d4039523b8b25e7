package intake

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/reportline/reportline/delivery"
	"github.com/reportline/reportline/internal/testcert"
)

func TestMutualTLS(t *testing.T) {
	dir := t.TempDir()
	ca := testcert.NewCA(t, "hotline CA")
	caFile, certFile, keyFile := ca.WriteFiles(t, dir, "intake.test", true)
	tc, err := ServerTLS(certFile, keyFile, caFile)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t)
	ts := httptest.NewUnstartedServer(f.in)
	ts.TLS = tc
	ts.StartTLS()
	defer ts.Close()
	client := func(certs ...tls.Certificate) *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool(), Certificates: certs}}}
	}
	body := f.payload(t, rid)
	send := func(c *http.Client) (int, error) {
		req, _ := http.NewRequest("POST", ts.URL+"/v1/deliveries", bytes.NewReader(body))
		delivery.SetHeaders(req.Header, f.signer, rid, time.Now(), body)
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if _, err := send(client()); err == nil {
		t.Error("a client without a certificate was let in")
	}
	other := testcert.NewCA(t, "someone else")
	stranger, _, _ := other.Issue(t, "relay", false)
	if _, err := send(client(stranger)); err == nil {
		t.Error("a client with a certificate from another CA was let in")
	}
	good, _, _ := ca.Issue(t, "relay", false)
	if code, err := send(client(good)); err != nil || code != 200 {
		t.Errorf("the relay's certificate: %d, %v", code, err)
	}
	if _, err := ServerTLS(certFile, keyFile, certFile+".missing"); err == nil {
		t.Error("a missing client CA file was accepted")
	}
	if tc, err := ServerTLS(certFile, keyFile, ""); err != nil || tc.ClientAuth != tls.NoClientCert || tc.MinVersion != tls.VersionTLS12 {
		t.Errorf("without client CA: %v, %v", tc, err)
	}
}
