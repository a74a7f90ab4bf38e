package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// checkResult is one entry of the /readyz answer.
type checkResult struct {
	Status     string  `json:"status"` // "ok" or "fail"
	Critical   bool    `json:"critical"`
	Error      string  `json:"error,omitempty"`
	DurationMS float64 `json:"duration_ms"`
}

// readinessReport is the /readyz answer.
type readinessReport struct {
	// Status is "ok", "degraded" (a non-critical check failed) or
	// "unavailable" (a critical one did; the status code is then 503).
	Status string                 `json:"status"`
	Checks map[string]checkResult `json:"checks"`
}

// healthz answers 200 while the process can serve HTTP at all.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writePlainJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz runs every readiness check concurrently, each bounded by
// Options.ReadinessTimeout, and answers 503 when a critical one fails.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	report := s.Readiness(r.Context())
	status := http.StatusOK
	if report.Status == "unavailable" {
		status = http.StatusServiceUnavailable
	}
	writePlainJSON(w, status, report)
}

// Readiness runs the readiness checks as /readyz does and returns the
// overall status: "ok", "degraded" or "unavailable".
func (s *Server) Readiness(ctx context.Context) (report readinessReport) {
	report = readinessReport{Status: "ok", Checks: make(map[string]checkResult, len(s.opts.ReadinessChecks))}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range s.opts.ReadinessChecks {
		wg.Go(func() {
			res := s.runCheck(ctx, c)
			mu.Lock()
			defer mu.Unlock()
			report.Checks[c.Name] = res
			if res.Status == "ok" {
				return
			}
			if c.Critical {
				report.Status = "unavailable"
			} else if report.Status == "ok" {
				report.Status = "degraded"
			}
		})
	}
	wg.Wait()
	return report
}

func (s *Server) runCheck(ctx context.Context, c Check) checkResult {
	ctx, cancel := context.WithTimeout(ctx, s.opts.ReadinessTimeout)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- fmt.Errorf("check panicked: %v", v)
			}
		}()
		if c.Check == nil {
			done <- nil
			return
		}
		done <- c.Check(ctx)
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		// A check that ignores its context is left to finish on its own.
		err = fmt.Errorf("no answer within %s", s.opts.ReadinessTimeout)
	}
	res := checkResult{Status: "ok", Critical: c.Critical, DurationMS: float64(time.Since(start).Microseconds()) / 1000}
	if err != nil {
		res.Status = "fail"
		res.Error = err.Error()
		s.log.WarnContext(ctx, "readiness check failed", "check", c.Name, "critical", c.Critical, "err", err)
	}
	return res
}

func writePlainJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"status":"error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
