package config

import (
	"os"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDefaultsRunEmbeddedWithoutAnySetting(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":8080" || c.DataDir != "./data" || c.MongoURI != "" || c.RedisURL != "" || c.KeysDir != "data/keys" || c.Demo != "auto" {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestFlagsOverrideEnvironment(t *testing.T) {
	c, err := Load([]string{"-addr", ":9000", "-cors-origins", "https://a.vn, https://b.vn"}, env(map[string]string{"ADDR": ":7000", "DATA_DIR": "/srv/tvs"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != ":9000" || c.DataDir != "/srv/tvs" || c.KeysDir != "/srv/tvs/keys" || len(c.CORSOrigins) != 2 || c.CORSOrigins[1] != "https://b.vn" {
		t.Fatalf("config = %+v", c)
	}
}

func TestBadSettingsAreRefusedWithEveryReason(t *testing.T) {
	_, err := Load(nil, env(map[string]string{"MONGODB_URI": "localhost:27017", "LOG_LEVEL": "loud", "MAX_DEPTH": "0", "DEMO": "yes"}))
	if err == nil {
		t.Fatal("bad configuration accepted")
	}
	for _, want := range []string{"MONGODB_URI", "LOG_LEVEL", "MAX_DEPTH", "DEMO"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}

func TestReadmeTableListsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skip("README.md not written yet")
	}
	for _, s := range settings {
		if !strings.Contains(string(readme), "`"+s.env+"`") {
			t.Errorf("README configuration table does not list %s", s.env)
		}
	}
}

func TestAbuseLimitsHaveSensibleDefaults(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.RateLimitReader != 10 || c.RateLimitReaderBurst != 60 || c.RateLimitIP != 5 || c.RateLimitIPBurst != 30 ||
		c.RateLimitMutationCost != 3 || c.MaxAliases != 30 || c.PersistedOperationsOnly {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestAbuseLimitSettings(t *testing.T) {
	cases := []struct {
		name    string
		env     map[string]string
		refused string // the setting the error must name; "" when accepted
	}{
		{"rate limits off", map[string]string{"RATE_LIMIT_READER": "0", "RATE_LIMIT_IP": "0"}, ""},
		{"a fractional rate", map[string]string{"RATE_LIMIT_IP": "0.5"}, ""},
		{"a negative rate", map[string]string{"RATE_LIMIT_IP": "-1"}, "RATE_LIMIT_IP"},
		{"a rate that is no number", map[string]string{"RATE_LIMIT_READER": "fast"}, "RATE_LIMIT_READER"},
		{"a burst of 0", map[string]string{"RATE_LIMIT_READER_BURST": "0"}, "RATE_LIMIT_READER_BURST"},
		{"a mutation costlier than a burst", map[string]string{"RATE_LIMIT_MUTATION_COST": "40"}, "RATE_LIMIT_IP_BURST"},
		{"a costly mutation with that limit off", map[string]string{"RATE_LIMIT_MUTATION_COST": "40", "RATE_LIMIT_IP": "0"}, ""},
		{"allow-list mode without a list", map[string]string{"PERSISTED_OPERATIONS_ONLY": "true"}, "PERSISTED_OPERATIONS_FILE"},
		{"allow-list mode with a list", map[string]string{"PERSISTED_OPERATIONS_ONLY": "true", "PERSISTED_OPERATIONS_FILE": "/etc/thuvienso/operations.json"}, ""},
		{"no aliases at all", map[string]string{"MAX_ALIASES": "0"}, "MAX_ALIASES"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(nil, env(tc.env))
			switch {
			case tc.refused == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.refused != "" && err == nil:
				t.Fatal("accepted")
			case tc.refused != "" && !strings.Contains(err.Error(), tc.refused):
				t.Fatalf("error %q does not name %s", err, tc.refused)
			}
		})
	}
}
