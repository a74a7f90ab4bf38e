package thuvienso_test

import (
	"os"
	"sort"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// snapshotPath is the schema as clients last saw it released. Additions to
// schema.graphql are free; removing or retyping anything in the snapshot
// breaks deployed apps, so it fails here until the snapshot is updated on
// purpose (with a line in docs/CHANGELOG.md).
const snapshotPath = "docs/schema.snapshot.graphql"

func loadSchema(t *testing.T, path string) *ast.Schema {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, gerr := gqlparser.LoadSchema(&ast.Source{Name: path, Input: string(src)})
	if gerr != nil {
		t.Fatalf("%s: %v", path, gerr)
	}
	return s
}

// TestSchemaHasNoBreakingChanges compares schema.graphql with the snapshot:
// every type, field, argument, enum value and input field clients know must
// still be there with the same type, and no new required argument or input
// field may appear on them.
func TestSchemaHasNoBreakingChanges(t *testing.T) {
	old, cur := loadSchema(t, snapshotPath), loadSchema(t, "schema.graphql")
	var breaks []string
	names := make([]string, 0, len(old.Types))
	for n := range old.Types {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		o := old.Types[n]
		if o.BuiltIn {
			continue
		}
		c := cur.Types[n]
		if c == nil || c.Kind != o.Kind {
			breaks = append(breaks, "type "+n+" removed or changed kind")
			continue
		}
		for _, ev := range o.EnumValues {
			if c.EnumValues.ForName(ev.Name) == nil {
				breaks = append(breaks, "enum value "+n+"."+ev.Name+" removed")
			}
		}
		for _, of := range o.Fields {
			cf := c.Fields.ForName(of.Name)
			switch {
			case cf == nil:
				breaks = append(breaks, "field "+n+"."+of.Name+" removed")
				continue
			case cf.Type.String() != of.Type.String() && !(o.Kind == ast.InputObject && !cf.Type.NonNull && of.Type.NonNull && cf.Type.Elem.String() == of.Type.Elem.String()):
				breaks = append(breaks, "field "+n+"."+of.Name+" changed type from "+of.Type.String()+" to "+cf.Type.String())
			}
			for _, oa := range of.Arguments {
				ca := cf.Arguments.ForName(oa.Name)
				if ca == nil || ca.Type.String() != oa.Type.String() && ca.Type.NonNull {
					breaks = append(breaks, "argument "+n+"."+of.Name+"("+oa.Name+") removed or made stricter")
				}
			}
			for _, ca := range cf.Arguments {
				if of.Arguments.ForName(ca.Name) == nil && ca.Type.NonNull && ca.DefaultValue == nil {
					breaks = append(breaks, "argument "+n+"."+of.Name+"("+ca.Name+") added as required")
				}
			}
		}
		if o.Kind == ast.InputObject {
			for _, cf := range c.Fields {
				if o.Fields.ForName(cf.Name) == nil && cf.Type.NonNull && cf.DefaultValue == nil {
					breaks = append(breaks, "input field "+n+"."+cf.Name+" added as required")
				}
			}
		}
	}
	for _, b := range breaks {
		t.Error(b)
	}
	if len(breaks) > 0 {
		t.Log("a breaking change: deprecate first; if it is meant, copy schema.graphql to " + snapshotPath + " and say so in docs/CHANGELOG.md")
	}
}
