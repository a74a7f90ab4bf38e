package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// A tiny executable schema for the tests, built without gqlgen's codegen:
// the real one is generated into graph/ by others. It resolves the
// top-level fields of an operation through resolver functions, the way
// generated code does (field context, field middleware, AddError, Recover).

const testSDL = `
type Query {
  hello(name: String): String!
  book(id: ID!): Book
  fail(kind: String!): String
  me: String
  slow: String
  books(first: Int = 20, after: String): BookConnection!
}
type Book {
  id: ID!
  title: String!
  related: [Book!]!
  copies(first: Int = 20): [Copy!]!
}
type BookConnection {
  edges: [BookEdge!]!
  totalCount: Int!
}
type BookEdge {
  cursor: String!
  node: Book!
}
type Copy {
  barcode: String!
  shelf: Shelf!
}
type Shelf {
  name: String!
}
type Mutation {
  touch: String!
}
type Subscription {
  tick: String!
  "Sends nothing and stays open until the client or the server ends it."
  wait: String
}
`

type resolverFunc func(ctx context.Context, args map[string]any) (any, error)

type testSchema struct {
	schema    *ast.Schema
	resolvers map[string]resolverFunc // "Query.hello", "Mutation.touch", "Subscription.tick"
	execs     atomic.Int64
	// waitsEnded receives one value each time a "wait" subscription ends.
	waitsEnded chan struct{}
}

func newTestSchema(resolvers map[string]resolverFunc) *testSchema {
	return &testSchema{
		schema:     gqlparser.MustLoadSchema(&ast.Source{Name: "test.graphql", Input: testSDL}),
		resolvers:  resolvers,
		waitsEnded: make(chan struct{}, 16),
	}
}

func (ts *testSchema) executable() graphql.ExecutableSchema {
	return &graphql.ExecutableSchemaMock{
		SchemaFunc: func() *ast.Schema { return ts.schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) {
			return 0, false // gqlgen's default: 1 + children
		},
		ExecFunc: ts.exec,
	}
}

func (ts *testSchema) exec(ctx context.Context) graphql.ResponseHandler {
	ts.execs.Add(1)
	opCtx := graphql.GetOperationContext(ctx)
	op := opCtx.Operation
	object := map[ast.Operation]string{ast.Query: "Query", ast.Mutation: "Mutation", ast.Subscription: "Subscription"}[op.Operation]

	if op.Operation == ast.Subscription && len(op.SelectionSet) == 1 {
		if f, ok := op.SelectionSet[0].(*ast.Field); ok && f.Name == "wait" {
			return func(ctx context.Context) *graphql.Response {
				<-ctx.Done()
				ts.waitsEnded <- struct{}{}
				return nil
			}
		}
	}
	if op.Operation == ast.Subscription {
		events := 0
		return func(ctx context.Context) *graphql.Response {
			if events >= 2 || ctx.Err() != nil {
				return nil
			}
			events++
			return &graphql.Response{Data: ts.resolveSet(ctx, opCtx, object, op.SelectionSet)}
		}
	}
	ran := false
	return func(ctx context.Context) *graphql.Response {
		if ran {
			return nil
		}
		ran = true
		return &graphql.Response{Data: ts.resolveSet(ctx, opCtx, object, op.SelectionSet)}
	}
}

func (ts *testSchema) resolveSet(ctx context.Context, opCtx *graphql.OperationContext, object string, set ast.SelectionSet) json.RawMessage {
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	for _, sel := range set {
		f, ok := sel.(*ast.Field)
		if !ok {
			continue
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		key, _ := json.Marshal(f.Alias)
		buf.Write(key)
		buf.WriteByte(':')
		v := ts.resolveField(ctx, opCtx, object, f)
		b, err := json.Marshal(v)
		if err != nil {
			b = []byte("null")
		}
		buf.Write(b)
	}
	buf.WriteByte('}')
	return buf.Bytes()
}

func (ts *testSchema) resolveField(ctx context.Context, opCtx *graphql.OperationContext, object string, f *ast.Field) (ret any) {
	if f.Name == "__typename" {
		return object
	}
	args := f.ArgumentMap(opCtx.Variables)
	fc := &graphql.FieldContext{
		Object:     object,
		Field:      graphql.CollectedField{Field: f},
		Args:       args,
		IsMethod:   true,
		IsResolver: true,
	}
	ctx = graphql.WithFieldContext(ctx, fc)
	defer func() {
		if r := recover(); r != nil {
			graphql.AddError(ctx, graphql.Recover(ctx, r))
			ret = nil
		}
	}()
	resolver := ts.resolvers[object+"."+f.Name]
	if resolver == nil {
		graphql.AddError(ctx, fmt.Errorf("no resolver for %s.%s", object, f.Name))
		return nil
	}
	v, err := opCtx.ResolverMiddleware(ctx, func(ctx context.Context) (any, error) {
		return resolver(ctx, args)
	})
	if err != nil {
		graphql.AddError(ctx, err)
		return nil
	}
	return v
}
