package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

// TestClientAddressBehindTrustedProxies: behind the province's reverse
// proxies each client is counted by its own address, and nobody else can
// pick an address by sending X-Forwarded-For.
func TestClientAddressBehindTrustedProxies(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		name, peer string
		xff        []string
		want       string
	}{
		{"no proxy configured for this peer", "203.0.113.7:5000", []string{"198.51.100.1"}, "203.0.113.7:5000"},
		{"one trusted proxy", "10.1.2.3:443", []string{"198.51.100.1"}, "198.51.100.1:0"},
		{"two trusted proxies", "127.0.0.1:80", []string{"198.51.100.1, 10.9.9.9"}, "198.51.100.1:0"},
		{"a forged entry left of the real client", "10.1.2.3:443", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1:0"},
		{"several header lines", "10.1.2.3:443", []string{"1.2.3.4", "198.51.100.1"}, "198.51.100.1:0"},
		{"IPv6 client", "[::1]:80", []string{"2001:db8::5"}, "[2001:db8::5]:0"},
		{"garbage", "10.1.2.3:443", []string{"not-an-ip"}, "10.1.2.3:443"},
		{"only proxies", "10.1.2.3:443", []string{"10.0.0.5"}, "10.1.2.3:443"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got string
			h := realClient(trusted, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = r.RemoteAddr }))
			r := httptest.NewRequest(http.MethodGet, "/graphql", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			h.ServeHTTP(httptest.NewRecorder(), r)
			if got != tc.want {
				t.Errorf("RemoteAddr %q, want %q", got, tc.want)
			}
		})
	}
}
