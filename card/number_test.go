package card

import "testing"

func TestNewNumbersAreValid(t *testing.T) {
	for i := 0; i < 1000; i++ {
		n, err := NewNumber()
		if err != nil {
			t.Fatal(err)
		}
		if !ValidNumber(n) {
			t.Fatalf("NewNumber() = %q is not valid", n)
		}
	}
}

func TestMistypedNumbersAreRejected(t *testing.T) {
	n, _ := NumberFrom("0123456789")
	for i := range n {
		for d := byte('0'); d <= '9'; d++ {
			if d == n[i] {
				continue
			}
			typo := n[:i] + string(d) + n[i+1:]
			if ValidNumber(typo) {
				t.Errorf("one digit changed at %d: %q accepted", i, typo)
			}
		}
	}
	for i := 0; i+1 < len(n); i++ {
		if n[i] == n[i+1] {
			continue
		}
		swapped := n[:i] + string(n[i+1]) + string(n[i]) + n[i+2:]
		if ValidNumber(swapped) {
			t.Errorf("digits %d and %d swapped: %q accepted", i, i+1, swapped)
		}
	}
}

func TestNormalizeNumberAcceptsPrintedGroups(t *testing.T) {
	n, _ := NumberFrom("0000012345")
	printed := n[:4] + " " + n[4:8] + "-" + n[8:]
	if got := NormalizeNumber(printed); got != n || !ValidNumber(got) {
		t.Fatalf("NormalizeNumber(%q) = %q", printed, got)
	}
}
