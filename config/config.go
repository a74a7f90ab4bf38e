// Package config owns the server's configuration: every setting, its
// environment variable, its flag, its default, and the checks that refuse a
// bad combination at start with a clear message. The README's configuration
// table lists the same settings.
package config

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the server's configuration.
type Config struct {
	// Addr is the listen address.
	Addr string
	// DataDir holds the embedded SQLite database and generated keys.
	DataDir string
	// MongoURI selects the MongoDB store; empty means embedded SQLite.
	MongoURI string
	// MongoDatabase is the database name within MongoURI.
	MongoDatabase string
	// RedisURL selects Redis for cache, limits, locks and pub/sub; empty
	// means in-process (a single instance).
	RedisURL string
	// KeysDir holds the signing keys; generated on first run when empty.
	KeysDir string
	// IndexDir holds this instance's search index (derived data, rebuilt
	// from the store when missing). Each instance needs its own.
	IndexDir string
	// TrustedProxies lists the reverse proxies (addresses, CIDR prefixes)
	// whose X-Forwarded-For names the client.
	TrustedProxies []netip.Prefix
	// CORSOrigins are the browser origins allowed to call the API.
	CORSOrigins []string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// LogFormat is text or json.
	LogFormat string
	// Demo is auto (seed an empty database), always, or never.
	Demo string
	// DemoCatalog adds the demo catalog (about 22,000 works) to a demo seed.
	DemoCatalog bool
	// Introspection enables schema introspection (GraphiQL needs it).
	Introspection bool
	// GraphiQL serves the GraphiQL page at /.
	GraphiQL bool
	// MaxComplexity, MaxDepth and MaxAliases bound one operation.
	MaxComplexity int
	MaxDepth      int
	MaxAliases    int
	// MaxConcurrentOperations bounds the operations over HTTP that run at
	// once; 0 means 8 × GOMAXPROCS.
	MaxConcurrentOperations int
	// RateLimitReader is how many GraphQL operations per second a logged-in
	// reader may run, sustained, and RateLimitReaderBurst how many at once;
	// RateLimitIP and RateLimitIPBurst the same for the anonymous requests
	// of one IP address. A rate of 0 means no limit.
	RateLimitReader      float64
	RateLimitReaderBurst int
	RateLimitIP          float64
	RateLimitIPBurst     int
	// RateLimitMutationCost is how many operations a mutation counts as.
	RateLimitMutationCost int
	// ResponseCacheTTL is how long an anonymous query's response is reused;
	// 0 turns the response cache off.
	ResponseCacheTTL time.Duration
	// PersistedOperationsOnly runs only the operations listed in
	// PersistedOperationsFile (an allow-list for production).
	PersistedOperationsOnly bool
	PersistedOperationsFile string
	// Push is how pushes go out: auto (Firebase when GoogleCredentials,
	// FirebaseProjectID or FCMEndpoint is set, else logged), fcm or log.
	Push string
	// GoogleCredentials is the service-account JSON file for Firebase
	// Cloud Messaging; empty: Application Default Credentials.
	GoogleCredentials string
	// FirebaseProjectID is the Firebase project; empty: the service
	// account's.
	FirebaseProjectID string
	// FCMEndpoint replaces the FCM API root (an emulator, a test server).
	FCMEndpoint string
	// CirculationRules is a JSON file of the lending rules
	// (circulation.LoadRules); empty: the defaults.
	CirculationRules string
	// DebugAddr is the listen address of Go's profiler (/debug/pprof/);
	// empty: none.
	DebugAddr string
}

// Setting documents one setting for flags and the README.
type setting struct {
	env, flag, def, help string
}

var settings = []setting{
	{"ADDR", "addr", ":8080", "listen address"},
	{"DATA_DIR", "data-dir", "./data", "folder for the embedded SQLite database and generated keys"},
	{"MONGODB_URI", "mongodb-uri", "", "MongoDB connection string (a replica set in production); empty: embedded SQLite in DATA_DIR"},
	{"MONGODB_DATABASE", "mongodb-database", "thuvienso", "database name within MONGODB_URI"},
	{"REDIS_URL", "redis-url", "", "Redis URL (redis://host:6379/0) for cache, rate limits, locks and pub/sub; empty: in-process, one instance only"},
	{"KEYS_DIR", "keys-dir", "", "folder of the signing keys (access tokens, cards); default DATA_DIR/keys; generated on first run"},
	{"INDEX_DIR", "index-dir", "", "folder of this instance's search index (derived, rebuilt from the store when missing; one per instance); default DATA_DIR/index"},
	{"TRUSTED_PROXIES", "trusted-proxies", "", "comma-separated addresses or CIDR prefixes of the reverse proxies in front of the server (10.0.0.0/8,127.0.0.1): their X-Forwarded-For names the client for rate limits, login limits and logs; empty: the TCP peer is the client"},
	{"CORS_ORIGINS", "cors-origins", "", "comma-separated browser origins allowed to call the API (https://app.example.vn,https://*.bacninh.gov.vn)"},
	{"LOG_LEVEL", "log-level", "info", "debug, info, warn or error"},
	{"LOG_FORMAT", "log-format", "text", "text or json"},
	{"DEMO", "demo", "auto", "demo province: auto (seed an empty database), always, never"},
	{"DEMO_CATALOG", "demo-catalog", "true", "with the demo province, also seed its catalog (about 22,000 works, imported and indexed in the background in about 10 seconds)"},
	{"INTROSPECTION", "introspection", "true", "allow schema introspection (GraphiQL and codegen tools need it)"},
	{"GRAPHIQL", "graphiql", "true", "serve GraphiQL at /"},
	{"MAX_COMPLEXITY", "max-complexity", "1000", "largest cost of one operation: a list with a first argument costs its page size times its items, an object 1, a scalar nothing"},
	{"MAX_DEPTH", "max-depth", "12", "deepest selection nesting of one operation"},
	{"MAX_ALIASES", "max-aliases", "30", "most aliased fields (a: work(id: 1) b: work(id: 2) …) in one operation"},
	{"MAX_CONCURRENT_OPERATIONS", "max-concurrent-operations", "0", "GraphQL operations over HTTP that run at once; the others wait their turn in arrival order (subscriptions and cached answers are not counted); 0: 8 × the cores Go uses"},
	{"RATE_LIMIT_READER", "rate-limit-reader", "10", "GraphQL operations per second a logged-in reader may run, sustained (HTTP and WebSocket; shared by every instance through REDIS_URL); 0: no limit"},
	{"RATE_LIMIT_READER_BURST", "rate-limit-reader-burst", "60", "GraphQL operations a logged-in reader may run at once before RATE_LIMIT_READER applies"},
	{"RATE_LIMIT_IP", "rate-limit-ip", "5", "GraphQL operations per second of the anonymous requests from one IP address (IPv6: one /64), sustained; 0: no limit"},
	{"RATE_LIMIT_IP_BURST", "rate-limit-ip-burst", "30", "anonymous GraphQL operations one IP address may run at once before RATE_LIMIT_IP applies"},
	{"RATE_LIMIT_MUTATION_COST", "rate-limit-mutation-cost", "3", "how many operations a mutation counts as against the rate limits"},
	{"RESPONSE_CACHE_TTL", "response-cache-ttl", "1s", "how long the answer to a GraphQL query that does not depend on the caller (a search, a work page) is reused for the same request (a catalogue change ends it sooner); 0: never"},
	{"PERSISTED_OPERATIONS_ONLY", "persisted-operations-only", "false", "run only the operations listed in PERSISTED_OPERATIONS_FILE; refuse every other one (FORBIDDEN)"},
	{"PERSISTED_OPERATIONS_FILE", "persisted-operations-file", "", "the allow-list: a JSON object of sha256 → document (GraphQL Code Generator's persisted-documents.json), an Apollo persisted query manifest, or one sha256 per line"},
	{"PUSH", "push", "auto", "push notifications: fcm (Firebase Cloud Messaging), log (logged only; the inbox works as ever), auto (fcm when a Google credential, project or FCM endpoint is set, else log)"},
	{"GOOGLE_APPLICATION_CREDENTIALS", "google-credentials", "", "service-account JSON file for Firebase Cloud Messaging; empty: Application Default Credentials (e.g. the metadata server on Google Cloud)"},
	{"FIREBASE_PROJECT_ID", "firebase-project-id", "", "Firebase project that sends the pushes; default: the service account's project"},
	{"FCM_ENDPOINT", "fcm-endpoint", "", "FCM API root for an emulator or a test server (sent without credentials unless GOOGLE_APPLICATION_CREDENTIALS is set); default Google's"},
	{"DEBUG_ADDR", "debug-addr", "", "listen address of Go's profiler, /debug/pprof/ (127.0.0.1:6060: keep it on loopback or a private network, it has no authentication); also samples where requests wait (block and mutex profiles); empty: none"},
	{"CIRCULATION_RULES", "circulation-rules", "", "JSON file of the lending rules (loan periods, renewals, limits, blocks, hold shelf, libraries lending only locally; per library type and reader category; see circulation.ParseRules); anything left out keeps its default; empty: the defaults"},
}

// Load reads the configuration from the environment, then from args
// (flags win), and checks it.
func Load(args []string, getenv func(string) string) (*Config, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	vals := map[string]*string{}
	for _, s := range settings {
		def := s.def
		if v := getenv(s.env); v != "" {
			def = v
		}
		vals[s.env] = fs.String(s.flag, def, s.help+" (env "+s.env+")")
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	get := func(env string) string { return strings.TrimSpace(*vals[env]) }
	c := &Config{
		Addr:          get("ADDR"),
		DataDir:       get("DATA_DIR"),
		MongoURI:      get("MONGODB_URI"),
		MongoDatabase: get("MONGODB_DATABASE"),
		RedisURL:      get("REDIS_URL"),
		KeysDir:       get("KEYS_DIR"),
		IndexDir:      get("INDEX_DIR"),
		LogLevel:      strings.ToLower(get("LOG_LEVEL")),
		LogFormat:     strings.ToLower(get("LOG_FORMAT")),
		Demo:          strings.ToLower(get("DEMO")),

		Push:              strings.ToLower(get("PUSH")),
		GoogleCredentials: get("GOOGLE_APPLICATION_CREDENTIALS"),
		FirebaseProjectID: get("FIREBASE_PROJECT_ID"),
		FCMEndpoint:       get("FCM_ENDPOINT"),

		PersistedOperationsFile: get("PERSISTED_OPERATIONS_FILE"),
	}
	for _, o := range strings.Split(get("CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
	}
	c.CirculationRules = get("CIRCULATION_RULES")
	c.DebugAddr = get("DEBUG_ADDR")
	var errs []error
	boolean := func(env string, dst *bool) {
		v, err := strconv.ParseBool(get(env))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s must be true or false, not %q", env, get(env)))
		}
		*dst = v
	}
	integer := func(env string, dst *int, lo, hi int) {
		v, err := strconv.Atoi(get(env))
		if err != nil || v < lo || v > hi {
			errs = append(errs, fmt.Errorf("%s must be a whole number from %d to %d, not %q", env, lo, hi, get(env)))
		}
		*dst = v
	}
	rate := func(env string, dst *float64) {
		v, err := strconv.ParseFloat(get(env), 64)
		if err != nil || v < 0 || v > 100_000 {
			errs = append(errs, fmt.Errorf("%s must be a number of operations per second from 0 to 100000, not %q", env, get(env)))
		}
		*dst = v
	}
	duration := func(env string, dst *time.Duration, hi time.Duration) {
		v, err := time.ParseDuration(get(env))
		if err != nil || v < 0 || v > hi {
			errs = append(errs, fmt.Errorf("%s must be a duration from 0 to %s (like 1s or 500ms), not %q", env, hi, get(env)))
		}
		*dst = v
	}
	duration("RESPONSE_CACHE_TTL", &c.ResponseCacheTTL, time.Minute)
	boolean("INTROSPECTION", &c.Introspection)
	boolean("DEMO_CATALOG", &c.DemoCatalog)
	boolean("GRAPHIQL", &c.GraphiQL)
	integer("MAX_COMPLEXITY", &c.MaxComplexity, 10, 1_000_000)
	integer("MAX_DEPTH", &c.MaxDepth, 3, 100)
	integer("MAX_ALIASES", &c.MaxAliases, 1, 10_000)
	integer("MAX_CONCURRENT_OPERATIONS", &c.MaxConcurrentOperations, 0, 100_000)
	rate("RATE_LIMIT_READER", &c.RateLimitReader)
	integer("RATE_LIMIT_READER_BURST", &c.RateLimitReaderBurst, 1, 1_000_000)
	rate("RATE_LIMIT_IP", &c.RateLimitIP)
	integer("RATE_LIMIT_IP_BURST", &c.RateLimitIPBurst, 1, 1_000_000)
	integer("RATE_LIMIT_MUTATION_COST", &c.RateLimitMutationCost, 1, 1000)
	for _, b := range []struct {
		env   string
		rate  float64
		burst int
	}{{"RATE_LIMIT_READER_BURST", c.RateLimitReader, c.RateLimitReaderBurst}, {"RATE_LIMIT_IP_BURST", c.RateLimitIP, c.RateLimitIPBurst}} {
		if b.rate > 0 && c.RateLimitMutationCost > b.burst && b.burst > 0 {
			errs = append(errs, fmt.Errorf("RATE_LIMIT_MUTATION_COST (%d) must not exceed %s (%d), or no mutation could ever run", c.RateLimitMutationCost, b.env, b.burst))
		}
	}
	boolean("PERSISTED_OPERATIONS_ONLY", &c.PersistedOperationsOnly)
	if c.PersistedOperationsOnly && c.PersistedOperationsFile == "" {
		errs = append(errs, errors.New("PERSISTED_OPERATIONS_ONLY needs PERSISTED_OPERATIONS_FILE, the list of allowed operations"))
	}
	var perr error
	if c.TrustedProxies, perr = parseTrustedProxies(get("TRUSTED_PROXIES")); perr != nil {
		errs = append(errs, fmt.Errorf("TRUSTED_PROXIES must be addresses or CIDR prefixes separated by commas: %w", perr))
	}
	if c.KeysDir == "" {
		c.KeysDir = filepath.Join(c.DataDir, "keys")
	}
	if c.IndexDir == "" {
		c.IndexDir = filepath.Join(c.DataDir, "index")
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("DATA_DIR must not be empty"))
	}
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		errs = append(errs, errors.New("MONGODB_URI must start with mongodb:// or mongodb+srv://"))
	}
	if c.MongoURI != "" && c.MongoDatabase == "" {
		errs = append(errs, errors.New("MONGODB_DATABASE must not be empty"))
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") && !strings.HasPrefix(c.RedisURL, "unix://") {
		errs = append(errs, errors.New("REDIS_URL must start with redis://, rediss:// or unix://"))
	}
	if _, err := c.SlogLevel(); err != nil {
		errs = append(errs, err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("LOG_FORMAT must be text or json, not %q", c.LogFormat))
	}
	if c.Push != "auto" && c.Push != "fcm" && c.Push != "log" {
		errs = append(errs, fmt.Errorf("PUSH must be auto, fcm or log, not %q", c.Push))
	}
	if c.FCMEndpoint != "" && !strings.HasPrefix(c.FCMEndpoint, "https://") && !strings.HasPrefix(c.FCMEndpoint, "http://") {
		errs = append(errs, errors.New("FCM_ENDPOINT must start with https:// or http://"))
	}
	if c.Demo != "auto" && c.Demo != "always" && c.Demo != "never" {
		errs = append(errs, fmt.Errorf("DEMO must be auto, always or never, not %q", c.Demo))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// SlogLevel returns LogLevel as a slog.Level.
func (c *Config) SlogLevel() (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return 0, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, not %q", c.LogLevel)
	}
	return l, nil
}

// PushesViaFCM reports whether pushes go through Firebase Cloud Messaging
// (else they are logged).
func (c *Config) PushesViaFCM() bool {
	return c.Push == "fcm" || (c.Push == "auto" && (c.GoogleCredentials != "" || c.FirebaseProjectID != "" || c.FCMEndpoint != ""))
}

// Logger builds the process's logger from LogLevel and LogFormat.
func (c *Config) Logger() *slog.Logger {
	level, _ := c.SlogLevel()
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// MarkdownTable returns the settings as the README's configuration table.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| Variable | Flag | Default | Meaning |\n|---|---|---|---|\n")
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "—"
		} else {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | `-%s` | %s | %s |\n", s.env, s.flag, def, s.help)
	}
	return b.String()
}

// parseTrustedProxies reads a comma-separated list of IP addresses and
// CIDR prefixes (10.0.0.0/8, 127.0.0.1, ::1).
func parseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, err
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
