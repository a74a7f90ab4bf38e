package server

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/99designs/gqlgen/complexity"
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
//   - an operation with more than maxAliases aliased fields (fields whose
//     response name differs from their name: "a1: work(id: 1)"), counted
//     wherever fragments are spread (QUERY_TOO_COMPLEX). Aliases are how one
//     request asks for the same costly field many times over — a thousand
//     logins to guess a thousand passwords, say — and no client needs many;
//   - an introspection query (__schema, __type) when introspection is off
//     (GRAPHQL_VALIDATION_FAILED). gqlgen would otherwise run it and fail
//     each field with a plain error, which the presenter would have to
//     report as INTERNAL.
//
// The walk is linear in the size of the document: the depth and alias count
// of each named fragment are computed once, and a fragment spread inside
// itself (which validation already rejects) counts as nothing rather than
// looping. Alias counts saturate instead of overflowing.
type operationLimits struct {
	maxDepth      int
	maxAliases    int
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
	w := depthWalker{doc: opCtx.Doc, memo: map[string]shape{}, onPath: map[string]bool{}}
	s := w.walk(op.SelectionSet)
	var err *gqlerror.Error
	switch {
	case s.depth > l.maxDepth:
		err = queryTooComplex(
			fmt.Sprintf("the operation is nested %d levels deep, more than the limit of %d", s.depth, l.maxDepth),
			fmt.Sprintf("truy vấn lồng nhau %d cấp, vượt quá giới hạn %d cấp", s.depth, l.maxDepth),
		)
	case l.maxAliases > 0 && s.aliases > l.maxAliases:
		err = queryTooComplex(
			fmt.Sprintf("the operation has %s aliased fields, more than the limit of %d; ask for a list instead of repeating a field", countText(s.aliases), l.maxAliases),
			fmt.Sprintf("truy vấn có %s trường đặt bí danh (alias), vượt quá giới hạn %d; hãy lấy một danh sách thay vì lặp lại một trường", countText(s.aliases), l.maxAliases),
		)
	}
	if err != nil {
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

// countText writes a saturated count as "more than N".
func countText(n int) string {
	if n >= maxCount {
		return fmt.Sprintf("more than %d", maxCount)
	}
	return fmt.Sprint(n)
}

// maxCount is where alias counts saturate.
const maxCount = 1 << 30

// shape is what the walk measures of a selection set.
type shape struct {
	depth   int // 0 for an empty set
	aliases int // aliased fields, saturating at maxCount
}

type depthWalker struct {
	doc           *ast.QueryDocument
	memo          map[string]shape // fragment name → shape of its selection set
	onPath        map[string]bool  // fragments being walked (cycle guard)
	introspection bool
}

// selectionSet returns the depth of set: 0 for an empty one.
func (w *depthWalker) selectionSet(set ast.SelectionSet) int {
	return w.walk(set).depth
}

func (w *depthWalker) walk(set ast.SelectionSet) shape {
	var out shape
	for _, sel := range set {
		var s shape
		switch sel := sel.(type) {
		case *ast.Field:
			switch sel.Name {
			case "__schema", "__type":
				w.introspection = true
				s.depth = 1
			default:
				s = w.walk(sel.SelectionSet)
				s.depth++
			}
			if sel.Alias != "" && sel.Alias != sel.Name {
				s.aliases = addCount(s.aliases, 1)
			}
		case *ast.InlineFragment:
			s = w.walk(sel.SelectionSet)
		case *ast.FragmentSpread:
			s = w.fragment(sel)
		}
		out.depth = max(out.depth, s.depth)
		out.aliases = addCount(out.aliases, s.aliases)
	}
	return out
}

func (w *depthWalker) fragment(spread *ast.FragmentSpread) shape {
	name := spread.Name
	if s, ok := w.memo[name]; ok {
		return s
	}
	if w.onPath[name] {
		return shape{}
	}
	def := spread.Definition
	if def == nil && w.doc != nil {
		def = w.doc.Fragments.ForName(name)
	}
	if def == nil {
		return shape{}
	}
	w.onPath[name] = true
	s := w.walk(def.SelectionSet)
	delete(w.onPath, name)
	w.memo[name] = s
	return s
}

func addCount(a, b int) int {
	return min(a+b, maxCount) // a, b <= maxCount: no overflow
}

// complexityLimit is gqlgen's FixedComplexityLimit with our cost model (see
// listCost) and our error: code QUERY_TOO_COMPLEX and a message in the
// request's language, instead of COMPLEXITY_LIMIT_EXCEEDED in English.
type complexityLimit struct {
	inner *extension.ComplexityLimit
	cost  listCost
}

func newComplexityLimit(limit int, cost listCost) *complexityLimit {
	// Scalars and enums come with their object: they cost nothing.
	return &complexityLimit{inner: extension.FixedComplexityLimit(limit, complexity.WithFixedScalarValue(0)), cost: cost}
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = (*complexityLimit)(nil)

// ExtensionName implements graphql.HandlerExtension.
func (c *complexityLimit) ExtensionName() string { return c.inner.ExtensionName() }

// Validate implements graphql.HandlerExtension. The complexity walk sees
// the schema through listCost; execution uses the schema itself.
func (c *complexityLimit) Validate(schema graphql.ExecutableSchema) error {
	c.cost.ExecutableSchema = schema
	return c.inner.Validate(&c.cost)
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

// DefaultPageSize is the page size listCost assumes for a `first` argument
// that is null; MaxPageSize (Options) bounds what it multiplies by.
const DefaultPageSize = 20

// listCost is the cost model of the complexity limit, over gqlgen's walk of
// the operation (fragments where they are spread; an interface's field at
// its most expensive implementation):
//
//   - a field with a `first` argument (a Relay connection, or any paged
//     list) costs 1 + first × the cost of its selections: asking 100 works
//     with 100 holdings each costs about 10,000, a page of 20 about 20 × its
//     item. `first` counts at most MaxPageSize (the resolvers refuse more
//     with a clearer error) and DefaultPageSize when null; its schema
//     default when absent;
//   - any other field of an object, interface or union type (a list without
//     `first` included: lists that can grow are connections) costs 1 plus
//     its selections;
//   - scalar and enum fields cost nothing, except at the root (every root
//     field costs at least 1);
//   - Options.FieldCosts replaces the 1 of chosen fields (a facet count that
//     walks every hit, say), and a cost the generated schema sets (gqlgen's
//     ComplexityRoot, through graph.Config.Complexity) wins over all this.
type listCost struct {
	graphql.ExecutableSchema
	maxPage    int
	fieldCosts map[string]int // "Type.field" → base cost
}

// Complexity implements graphql.ExecutableSchema for the complexity walk.
func (c *listCost) Complexity(ctx context.Context, typeName, fieldName string, childComplexity int, args map[string]any) (int, bool) {
	if n, ok := c.ExecutableSchema.Complexity(ctx, typeName, fieldName, childComplexity, args); ok && n >= 1 {
		return n, true
	}
	schema := c.Schema()
	base, custom := c.fieldCosts[typeName+"."+fieldName]
	if !custom {
		base = 1
	}
	if def := schema.Types[typeName]; def != nil {
		if f := def.Fields.ForName(fieldName); f != nil && f.Arguments.ForName("first") != nil {
			return addCost(base, mulCost(c.pageSize(args["first"]), childComplexity)), true
		}
	}
	if custom || isRootType(schema, typeName) {
		return addCost(base, childComplexity), true
	}
	return 0, false // gqlgen's default: 1 + selections, 0 for a scalar
}

// pageSize is the multiplier of a `first` argument value.
func (c *listCost) pageSize(v any) int {
	n := DefaultPageSize
	switch v := v.(type) {
	case int:
		n = v
	case int64:
		n = int(max(min(v, int64(maxCount)), -1))
	case int32:
		n = int(v)
	case float64:
		n = int(max(min(v, float64(maxCount)), -1))
	case json.Number:
		if i, err := v.Int64(); err == nil {
			n = int(max(min(i, int64(maxCount)), -1))
		}
	}
	return max(0, min(n, c.maxPage))
}

func isRootType(schema *ast.Schema, name string) bool {
	for _, root := range []*ast.Definition{schema.Query, schema.Mutation, schema.Subscription} {
		if root != nil && root.Name == name {
			return true
		}
	}
	return false
}

// addCost and mulCost saturate at maxCount, like gqlgen's own sums, so
// that no operation can overflow its way under the limit.
func addCost(a, b int) int {
	return min(clampCost(a)+clampCost(b), maxCount)
}

func mulCost(a, b int) int {
	a, b = clampCost(a), clampCost(b)
	if a != 0 && b > maxCount/a {
		return maxCount
	}
	return a * b
}

func clampCost(n int) int { return min(max(n, 0), maxCount) }
