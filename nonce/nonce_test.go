package nonce_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bacninh/thuvienso/nonce"
	"github.com/bacninh/thuvienso/nonce/noncetest"
)

func TestMemory(t *testing.T) { noncetest.Run(t, nonce.NewMemory(0)) }

func TestMemoryBounded(t *testing.T) {
	m := nonce.NewMemory(2000)
	for i := range 10_000 {
		if _, err := m.Claim(t.Context(), string(rune(i+0x4e00)), time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	// The most recent keys are still refused.
	if first, _ := m.Claim(t.Context(), string(rune(9999+0x4e00)), time.Hour); first {
		t.Fatal("a recent key was forgotten")
	}
}

type broken struct{}

func (broken) Claim(context.Context, string, time.Duration) (bool, error) {
	return false, errors.New("connection refused")
}

func TestFallback(t *testing.T) {
	t.Run("healthy", func(t *testing.T) { noncetest.Run(t, nonce.Fallback(nonce.NewMemory(0), nonce.NewMemory(0), nil)) })
	t.Run("primary down", func(t *testing.T) { noncetest.Run(t, nonce.Fallback(broken{}, nonce.NewMemory(0), nil)) })
}
