package locale

import (
	"context"
	"testing"
)

func TestParse(t *testing.T) {
	cases := map[string]string{
		"":                        "vi",
		"en-US,en;q=0.9":          "en",
		"en":                      "en",
		"en-GB":                   "en",
		"vi":                      "vi",
		"vi-VN,vi;q=0.9,en;q=0.8": "vi",
		"fr":                      "vi",
		"fr-FR,fr;q=0.9":          "vi",
		"fr,en;q=0.5":             "en",
		"en;q=0.3,vi;q=0.9":       "vi",
		"*":                       "vi",
		"zh-CN,zh;q=0.9":          "vi",
		";;garbage===":            "vi",
		"en-US;q=0":               "vi",
	}
	for in, want := range cases {
		if got := Parse(in); got != want {
			t.Errorf("Parse(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestContext(t *testing.T) {
	ctx := context.Background()
	if got := From(ctx); got != "vi" {
		t.Fatalf("From(empty) = %q, want vi", got)
	}
	if got := From(With(ctx, "en")); got != "en" {
		t.Fatalf("From(With(en)) = %q", got)
	}
	if got := From(With(ctx, "de")); got != "vi" {
		t.Fatalf("From(With(de)) = %q, want vi", got)
	}
	//lint:ignore SA1012 a nil context must not panic
	if got := From(nil); got != "vi" { //nolint:staticcheck
		t.Fatalf("From(nil) = %q", got)
	}
}
