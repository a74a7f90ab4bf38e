package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// realClient makes r.RemoteAddr the client's address when the request came
// through one of the trusted reverse proxies: the right-most address of
// X-Forwarded-For that is not itself a trusted proxy (every proxy appends
// the address it received the request from, so addresses left of the last
// untrusted one may be forged by the client). Requests from anywhere else
// keep their TCP peer, whatever they claim. Rate limits, login limits and
// the access log then see each client instead of the proxy.
func realClient(trusted []netip.Prefix, next http.Handler) http.Handler {
	if len(trusted) == 0 {
		return next
	}
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		peer, ok := addrOf(r.RemoteAddr)
		if !ok || !isTrusted(peer) {
			next.ServeHTTP(w, r)
			return
		}
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a garbled list: trust nothing further left
			}
			if !isTrusted(a) {
				r2 := r.Clone(r.Context())
				r2.RemoteAddr = net.JoinHostPort(a.Unmap().String(), "0")
				next.ServeHTTP(w, r2)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// addrOf parses the IP of a host:port (or a bare IP).
func addrOf(hostport string) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	a, err := netip.ParseAddr(host)
	return a.Unmap(), err == nil
}
