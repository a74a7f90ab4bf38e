package app

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// sharedTools is ../shared/tools from this package's folder.
const sharedTools = "../../shared/tools/"

// needSharedTools skips a test when the npm packages of ../shared/tools
// are not installed (scripts/test installs them with their setup script).
func needSharedTools(t *testing.T, pkg string) {
	t.Helper()
	if _, err := os.Stat(sharedTools + "node/node_modules/" + pkg); err != nil {
		t.Skipf("%s is not set up: run ../shared/tools/setup (scripts/test does)", pkg)
	}
}

// TestGraphQLOverHTTPAuditStrict runs the official GraphQL-over-HTTP audit
// (npm graphql-http) against the assembled server: no MUST and, with
// --strict, no SHOULD may fail, so every client library that follows the
// spec can talk to the API.
func TestGraphQLOverHTTPAuditStrict(t *testing.T) {
	needSharedTools(t, "graphql-http")
	_, srv := testApp(t, t.TempDir(), "auto")
	out, err := exec.Command("node", sharedTools+"graphql-http-audit.mjs", "--strict", srv.URL+"/graphql").CombinedOutput()
	if err != nil {
		t.Fatalf("the audit failed: %v\n%s", err, out)
	}
	t.Logf("%s", lastLine(out))
}

func lastLine(b []byte) string {
	s := strings.TrimRight(string(b), "\n")
	return s[strings.LastIndex(s, "\n")+1:]
}
