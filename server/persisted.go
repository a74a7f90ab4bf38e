package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/bacninh/thuvienso"
)

// PersistedOperations is an allow-list of GraphQL operations: with
// Options.PersistedOperations set, the server runs only the documents it
// lists, identified by the sha256 (hex) of their exact text — the hash that
// automatic persisted queries and the usual client tools compute.
//
// A client may send a listed document's text, or only its hash in
// extensions.persistedQuery.sha256Hash (version 1, as in APQ): the server
// then takes the text from the list when the list has it, or from the APQ
// cache. Anything else is refused before parsing with FORBIDDEN (a text or
// hash not in the list) or PERSISTED_QUERY_NOT_FOUND (a listed hash whose
// text the server does not have yet: send the text along once).
type PersistedOperations struct {
	// allowed maps a sha256 to its document; "" when only the hash is known.
	allowed map[string]string
}

// NewPersistedOperations builds an allow-list from documents (their hashes
// are computed) and bare sha256 hashes (64 hex digits, any case).
func NewPersistedOperations(documents []string, hashes []string) (*PersistedOperations, error) {
	p := &PersistedOperations{allowed: map[string]string{}}
	for _, d := range documents {
		p.allowed[queryHash(d)] = d
	}
	for _, h := range hashes {
		h = strings.ToLower(strings.TrimSpace(h))
		if !isSHA256Hex(h) {
			return nil, fmt.Errorf("persisted operations: %q is not a sha256 in hex", h)
		}
		if _, ok := p.allowed[h]; !ok {
			p.allowed[h] = ""
		}
	}
	return p, nil
}

// LoadPersistedOperations reads an allow-list file in one of the formats
// client tools write:
//
//   - a JSON object of sha256 → document, e.g. GraphQL Code Generator's
//     persisted-documents.json ({"9ab3…": "query Me { me { id } }"});
//   - an Apollo persisted query manifest ({"format":
//     "apollo-persisted-query-manifest", "operations": [{"id": "9ab3…",
//     "body": "query Me { me { id } }"}, …]});
//   - plain text, one sha256 per line (blank lines and # comments skipped):
//     hashes only, the clients then send the text at least once.
//
// A key or id that is not the sha256 of its document is an error, so that
// a manifest hashed another way (Relay's md5, say) is refused at start
// rather than refusing every request.
func LoadPersistedOperations(path string) (*PersistedOperations, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("persisted operations: %w", err)
	}
	p, err := parsePersistedOperations(b)
	if err != nil {
		return nil, fmt.Errorf("persisted operations %s: %w", path, err)
	}
	return p, nil
}

func parsePersistedOperations(b []byte) (*PersistedOperations, error) {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return nil, errors.New("the file is empty")
	}
	if trimmed[0] != '{' {
		var hashes []string
		sc := bufio.NewScanner(bytes.NewReader(trimmed))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			hashes = append(hashes, line)
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return NewPersistedOperations(nil, hashes)
	}

	var manifest struct {
		Format     string `json:"format"`
		Operations []struct {
			ID   string `json:"id"`
			Body string `json:"body"`
		} `json:"operations"`
	}
	if err := json.Unmarshal(trimmed, &manifest); err == nil && manifest.Format != "" {
		if manifest.Format != "apollo-persisted-query-manifest" {
			return nil, fmt.Errorf("unknown manifest format %q", manifest.Format)
		}
		docs := make(map[string]string, len(manifest.Operations))
		for _, op := range manifest.Operations {
			docs[op.ID] = op.Body
		}
		return fromHashedDocuments(docs)
	}
	var docs map[string]string
	if err := json.Unmarshal(trimmed, &docs); err != nil {
		return nil, errors.New(`not a JSON object of "sha256": "document", an Apollo manifest, or a list of hashes`)
	}
	return fromHashedDocuments(docs)
}

func fromHashedDocuments(docs map[string]string) (*PersistedOperations, error) {
	list := make([]string, 0, len(docs))
	for id, doc := range docs {
		if h := queryHash(doc); !strings.EqualFold(h, id) {
			return nil, fmt.Errorf("%q is not the sha256 of its document (that is %s)", id, h)
		}
		list = append(list, doc)
	}
	return NewPersistedOperations(list, nil)
}

// Len returns how many operations the list allows.
func (p *PersistedOperations) Len() int { return len(p.allowed) }

// allowList is the handler extension that enforces PersistedOperations. It
// runs before automatic persisted queries, so that APQ can neither serve
// nor register an operation that is not listed.
type allowList struct {
	ops *PersistedOperations
	apq bool // an APQ cache is configured
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
} = (*allowList)(nil)

// ExtensionName implements graphql.HandlerExtension.
func (*allowList) ExtensionName() string { return "ThuvienSoPersistedOperations" }

// Validate implements graphql.HandlerExtension.
func (*allowList) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters implements graphql.OperationParameterMutator.
func (a *allowList) MutateOperationParameters(_ context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Query != "" {
		if _, ok := a.ops.allowed[queryHash(params.Query)]; ok {
			return nil
		}
		return notPersisted()
	}
	hash := persistedQueryHash(params.Extensions)
	doc, ok := a.ops.allowed[hash]
	switch {
	case hash == "" || !ok:
		return notPersisted()
	case doc != "":
		params.Query = doc
		return nil
	case a.apq:
		return nil // APQ takes the text from its cache, or asks for it
	}
	err := &gqlerror.Error{Message: "PersistedQueryNotFound"}
	err.Extensions = map[string]any{"code": CodePersistedQueryNotFound}
	return err
}

// CodePersistedQueryNotFound is the code of a request that sent only the
// hash of an operation the server does not know the text of (gqlgen's and
// Apollo's): the client sends it again with the text.
const CodePersistedQueryNotFound = "PERSISTED_QUERY_NOT_FOUND"

func notPersisted() *gqlerror.Error {
	return transportError(thuvienso.CodeForbidden,
		"this server runs only registered operations, and this one is not registered",
		"máy chủ này chỉ chạy các thao tác đã đăng ký, và thao tác này chưa được đăng ký")
}

// persistedQueryHash returns extensions.persistedQuery.sha256Hash, lower
// case, or "".
func persistedQueryHash(ext map[string]any) string {
	pq, _ := ext["persistedQuery"].(map[string]any)
	h, _ := pq["sha256Hash"].(string)
	return strings.ToLower(h)
}

func queryHash(q string) string {
	sum := sha256.Sum256([]byte(q))
	return hex.EncodeToString(sum[:])
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
