package server

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/bacninh/thuvienso"
)

// metrics are the server's Prometheus collectors, all named thuvienso_….
type metrics struct {
	registry *prometheus.Registry

	gqlRequests   *prometheus.CounterVec   // operation, type
	gqlDuration   *prometheus.HistogramVec // operation, type
	gqlErrors     *prometheus.CounterVec   // code
	subscriptions *prometheus.CounterVec   // operation
	panics        prometheus.Counter
	httpInFlight  prometheus.Gauge
	httpRequests  *prometheus.CounterVec   // route, code
	httpDuration  *prometheus.HistogramVec // route

	names operationNames
}

// watchAdmission exposes how many operations run and wait for a slot.
func (m *metrics) watchAdmission(a *admission) {
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "thuvienso_graphql_operations_running",
			Help: "GraphQL operations over HTTP running now (at most MAX_CONCURRENT_OPERATIONS).",
		}, func() float64 { return float64(a.running.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "thuvienso_graphql_operations_waiting",
			Help: "GraphQL operations over HTTP waiting for a slot to run, in arrival order.",
		}, func() float64 { return float64(a.waiting.Load()) }),
	)
}

func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
	}
	m := &metrics{
		registry: reg,
		gqlRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "thuvienso_graphql_requests_total",
			Help: "GraphQL queries and mutations answered, by operation name and type (none: refused before execution).",
		}, []string{"operation", "type"}),
		gqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "thuvienso_graphql_request_duration_seconds",
			Help:    "Time from receiving a GraphQL query or mutation to its response, by operation name and type.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation", "type"}),
		gqlErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "thuvienso_graphql_errors_total",
			Help: "GraphQL errors sent to clients, by extensions.code.",
		}, []string{"code"}),
		subscriptions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "thuvienso_graphql_subscriptions_total",
			Help: "GraphQL subscriptions started, by operation name.",
		}, []string{"operation"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "thuvienso_panics_recovered_total",
			Help: "Panics recovered in resolvers and HTTP handlers.",
		}),
		httpInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "thuvienso_http_requests_in_flight",
			Help: "HTTP requests being served (open WebSocket connections included).",
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "thuvienso_http_requests_total",
			Help: "HTTP requests served, by route and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "thuvienso_http_request_duration_seconds",
			Help:    "HTTP request duration by route (WebSocket connections excluded).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		names: operationNames{seen: map[string]struct{}{}},
	}
	reg.MustRegister(m.gqlRequests, m.gqlDuration, m.gqlErrors, m.subscriptions, m.panics,
		m.httpInFlight, m.httpRequests, m.httpDuration)
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		Registry: m.registry,
		// The server's gzip middleware compresses.
		DisableCompression: true,
	})
}

func (m *metrics) countError(code thuvienso.Code) {
	m.gqlErrors.WithLabelValues(string(code)).Inc()
}

// maxOperationNames bounds the operation label: operation names are chosen
// by clients, and each distinct label value is a time series.
const maxOperationNames = 200

// operationNames turns client-chosen operation names into bounded label
// values: "anonymous" for none, "other" once maxOperationNames distinct
// names have been seen, and only [A-Za-z0-9_] (GraphQL names) kept.
type operationNames struct {
	mu   sync.Mutex
	seen map[string]struct{}
}

func (o *operationNames) label(name string) string {
	if name == "" {
		return "anonymous"
	}
	if len(name) > 64 || strings.IndexFunc(name, func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) >= 0 {
		return "other"
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.seen[name]; ok {
		return name
	}
	if len(o.seen) >= maxOperationNames {
		return "other"
	}
	o.seen[name] = struct{}{}
	return name
}

// routeLabel maps a path to one of a fixed set of route labels.
func routeLabel(path string) string {
	switch {
	case path == "/graphql":
		return "graphql"
	case path == "/healthz", path == "/readyz", path == "/metrics":
		return path[1:]
	case path == "/", path == "/graphiql", path == "/graphiql/":
		return "graphiql"
	case strings.HasPrefix(path, "/graphiql/assets/"):
		return "graphiql_assets"
	}
	return "other"
}

// observer is the gqlgen extension that measures operations and tells the
// access log which operation a request ran.
type observer struct{ s *Server }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.ResponseInterceptor
} = (*observer)(nil)

// ExtensionName implements graphql.HandlerExtension.
func (*observer) ExtensionName() string { return "ThuvienSoObserver" }

// Validate implements graphql.HandlerExtension.
func (*observer) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation implements graphql.OperationInterceptor.
func (o *observer) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	name, typ := operationLabels(ctx)
	if ri := requestInfoFrom(ctx); ri != nil {
		ri.setOperation(name, typ)
	}
	if typ == "subscription" {
		o.s.metrics.subscriptions.WithLabelValues(o.s.metrics.names.label(name)).Inc()
	}
	return next(ctx)
}

// InterceptResponse implements graphql.ResponseInterceptor. It also sees the
// responses of requests refused before execution (parse, validation, limits,
// body errors).
func (o *observer) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	m := o.s.metrics
	if resp != nil {
		for _, e := range resp.Errors {
			code, _ := e.Extensions["code"].(string)
			if code == "" {
				code = "UNKNOWN"
			}
			m.gqlErrors.WithLabelValues(code).Inc()
		}
	}
	name, typ := operationLabels(ctx)
	if typ == "subscription" {
		return resp
	}
	label := m.names.label(name)
	m.gqlRequests.WithLabelValues(label, typ).Inc()
	if graphql.HasOperationContext(ctx) {
		if start := graphql.GetOperationContext(ctx).Stats.OperationStart; !start.IsZero() {
			m.gqlDuration.WithLabelValues(label, typ).Observe(time.Since(start).Seconds())
		}
	}
	return resp
}

// operationLabels returns the operation's name and type ("query",
// "mutation", "subscription", or "none" when there is no valid operation).
func operationLabels(ctx context.Context) (name, typ string) {
	if !graphql.HasOperationContext(ctx) {
		return "", "none"
	}
	opCtx := graphql.GetOperationContext(ctx)
	if opCtx.Operation == nil {
		return opCtx.OperationName, "none"
	}
	name = opCtx.Operation.Name
	if name == "" {
		name = opCtx.OperationName
	}
	return name, string(opCtx.Operation.Operation)
}
