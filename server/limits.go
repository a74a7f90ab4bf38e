package server

import (
	"context"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/bacninh/thuvienso"
)

// operationLimits is a gqlgen handler extension that runs after validation
// and refuses, before anything is executed:
//
//   - an operation nested deeper than maxDepth (QUERY_TOO_COMPLEX): gqlgen
//     has no depth limit of its own. Depth counts fields: "{ a }" is 1,
//     "{ a { b } }" is 2; fragments count where they are spread, inline
//     fragments add nothing, the subtrees of __schema and __type are not
//     counted (gqlparser limits introspection depth itself) and __typename
//     counts as a field;
//   - an introspection query (__schema, __type) when introspection is off
//     (GRAPHQL_VALIDATION_FAILED). gqlgen would otherwise run it and fail
//     each field with a plain error, which the presenter would have to
//     report as INTERNAL.
//
// The walk is linear in the size of the document: the depth of each named
// fragment is computed once, and a fragment spread inside itself (which
// validation already rejects) counts as nothing rather than looping.
type operationLimits struct {
	maxDepth      int
	introspection bool
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*operationLimits)(nil)

// ExtensionName implements graphql.HandlerExtension.
func (*operationLimits) ExtensionName() string { return "ThuvienSoOperationLimits" }

// Validate implements graphql.HandlerExtension.
func (*operationLimits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (l *operationLimits) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	op := opCtx.Operation
	if op == nil {
		return nil
	}
	w := depthWalker{doc: opCtx.Doc, memo: map[string]int{}, onPath: map[string]bool{}}
	depth := w.selectionSet(op.SelectionSet)
	if depth > l.maxDepth {
		err := queryTooComplex(
			fmt.Sprintf("the operation is nested %d levels deep, more than the limit of %d", depth, l.maxDepth),
			fmt.Sprintf("truy vấn lồng nhau %d cấp, vượt quá giới hạn %d cấp", depth, l.maxDepth),
		)
		if op.Position != nil {
			err.Locations = []gqlerror.Location{{Line: op.Position.Line, Column: op.Position.Column}}
		}
		return err
	}
	if w.introspection && !l.introspection {
		return &gqlerror.Error{
			Message:    "introspection is disabled on this server",
			Extensions: map[string]any{"code": CodeGraphQLValidationFailed},
		}
	}
	return nil
}

type depthWalker struct {
	doc           *ast.QueryDocument
	memo          map[string]int  // fragment name → depth of its selection set
	onPath        map[string]bool // fragments being walked (cycle guard)
	introspection bool
}

// selectionSet returns the depth of set: 0 for an empty one.
func (w *depthWalker) selectionSet(set ast.SelectionSet) int {
	deepest := 0
	for _, sel := range set {
		d := 0
		switch sel := sel.(type) {
		case *ast.Field:
			switch sel.Name {
			case "__schema", "__type":
				w.introspection = true
				d = 1
			default:
				d = 1 + w.selectionSet(sel.SelectionSet)
			}
		case *ast.InlineFragment:
			d = w.selectionSet(sel.SelectionSet)
		case *ast.FragmentSpread:
			d = w.fragment(sel)
		}
		deepest = max(deepest, d)
	}
	return deepest
}

func (w *depthWalker) fragment(spread *ast.FragmentSpread) int {
	name := spread.Name
	if d, ok := w.memo[name]; ok {
		return d
	}
	if w.onPath[name] {
		return 0
	}
	def := spread.Definition
	if def == nil && w.doc != nil {
		def = w.doc.Fragments.ForName(name)
	}
	if def == nil {
		return 0
	}
	w.onPath[name] = true
	d := w.selectionSet(def.SelectionSet)
	delete(w.onPath, name)
	w.memo[name] = d
	return d
}

// complexityLimit is gqlgen's FixedComplexityLimit with our error: code
// QUERY_TOO_COMPLEX and a message in the request's language, instead of
// COMPLEXITY_LIMIT_EXCEEDED in English.
type complexityLimit struct {
	inner *extension.ComplexityLimit
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*complexityLimit)(nil)

// ExtensionName implements graphql.HandlerExtension.
func (c *complexityLimit) ExtensionName() string { return c.inner.ExtensionName() }

// Validate implements graphql.HandlerExtension.
func (c *complexityLimit) Validate(schema graphql.ExecutableSchema) error {
	return c.inner.Validate(schema)
}

// MutateOperationContext implements graphql.OperationContextMutator.
func (c *complexityLimit) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if gerr := c.inner.MutateOperationContext(ctx, opCtx); gerr != nil {
		stats, _ := opCtx.Stats.GetExtension(c.inner.ExtensionName()).(*extension.ComplexityStats)
		if stats == nil {
			return queryTooComplex("the operation is too complex", "truy vấn quá phức tạp")
		}
		return queryTooComplex(
			fmt.Sprintf("the operation has complexity %d, more than the limit of %d", stats.Complexity, stats.ComplexityLimit),
			fmt.Sprintf("truy vấn có độ phức tạp %d, vượt quá giới hạn %d", stats.Complexity, stats.ComplexityLimit),
		)
	}
	return nil
}

func queryTooComplex(en, vi string) *gqlerror.Error {
	return transportError(thuvienso.CodeQueryTooComplex, en, vi)
}
