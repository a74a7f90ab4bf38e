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
