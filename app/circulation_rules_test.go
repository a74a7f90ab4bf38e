package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bacninh/thuvienso/auth"
	"github.com/bacninh/thuvienso/config"
)

func TestTheLendingRulesComeFromTheFileCirculationRulesNames(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.json")
	if err := os.WriteFile(rules, []byte(`{"holdShelfDays": 3, "maxLoans": {"CHILD": 2}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	a, _ := testApp(t, filepath.Join(dir, "data"), "never", "-circulation-rules", rules)
	r := a.Circulation.Rules()
	if r.HoldShelfDays != 3 || r.MaxLoansFor(auth.CategoryChild) != 2 || r.MaxLoansFor(auth.CategoryAdult) != 10 {
		t.Fatalf("rules in force: shelf %d days, loans %v", r.HoldShelfDays, r.MaxLoans)
	}

	// A wrong file stops the start and says where and why.
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"holdShelfDays": -1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load([]string{"-data-dir", filepath.Join(dir, "data2"), "-demo", "never", "-circulation-rules", bad},
		func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil ||
		!strings.Contains(err.Error(), "bad.json") || !strings.Contains(err.Error(), "holdShelfDays") {
		t.Fatalf("started with a wrong rules file: %v", err)
	}
}
