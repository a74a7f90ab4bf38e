package mongo_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/card"
	"github.com/bacninh/thuvienso/mongo"
)

// A card replacement is three writes without a transaction (stage the new
// card, mark the old one LOST, promote the new one). A process that dies
// between them leaves nothing a reader sees half done: the next reader
// completes a replacement that won, and removes what a lost or abandoned
// one left behind.
func TestCardReplacementInterrupted(t *testing.T) {
	eachServer(t, func(t *testing.T, uri string, opts ...*options.ClientOptions) {
		ctx, cs := t.Context(), opener(uri, "thuvienso_test_", opts...)(t).Cards
		at := time.Date(2026, 11, 25, 9, 0, 0, 123456789, time.UTC)
		num := func(i int) string { n, _ := card.NumberFrom(fmt.Sprintf("%010d", i)); return n }
		newCard := func(i int, account string) *card.Card {
			return &card.Card{Number: num(i), AccountID: account, Symbology: card.Code128, Status: card.StatusActive,
				Current: true, HomeLibraryID: "lib", IssuedAt: at.Add(time.Duration(i) * time.Hour),
				ExpiresAt: at.AddDate(5, 0, 0), CreatedAt: at, UpdatedAt: at}
		}
		for i, acc := range []string{"acc-1", "acc-2", "acc-3"} {
			if err := cs.CreateCard(ctx, newCard(i+1, acc)); err != nil {
				t.Fatal(err)
			}
		}

		// Died after winning: readers complete it.
		if err := mongo.InterruptReplacement(ctx, cs, num(1), newCard(11, "acc-1"), at, true, 0); err != nil {
			t.Fatal(err)
		}
		cur, err := cs.CurrentCard(ctx, "acc-1")
		if err != nil || cur.Number != num(11) || !cur.Current {
			t.Fatalf("CurrentCard after an interrupted replacement: %+v, %v", cur, err)
		}
		all, err := cs.CardsOfAccount(ctx, "acc-1")
		if err != nil || len(all) != 2 || all[0].Number != num(11) || all[1].ReplacedBy != num(11) {
			t.Fatalf("CardsOfAccount: %+v, %v", all, err)
		}
		st := card.StatusBlocked
		if _, err := cs.UpdateCard(ctx, num(11), card.Update{Status: &st}, at); err != nil {
			t.Fatalf("UpdateCard of the completed card: %v", err)
		}

		// Died after staging, long ago: the leftover goes, its number is free.
		if err := mongo.InterruptReplacement(ctx, cs, num(2), newCard(12, "acc-2"), at, false, 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Card(ctx, num(12)); !errors.Is(err, thuvienso.ErrNotFound) {
			t.Fatalf("Card of an abandoned staged card: %v", err)
		}
		if err := cs.ReplaceCard(ctx, num(2), newCard(12, "acc-2"), at); err != nil {
			t.Fatalf("ReplaceCard with the abandoned card's number: %v", err)
		}

		// Staged just now: a replacement in progress, invisible but kept;
		// when another replacement wins, the next reader removes it.
		if err := mongo.InterruptReplacement(ctx, cs, num(3), newCard(13, "acc-3"), at, false, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.Card(ctx, num(13)); !errors.Is(err, thuvienso.ErrNotFound) {
			t.Fatalf("Card of a staged card: %v", err)
		}
		if err := cs.CreateCard(ctx, newCard(13, "acc-9")); !errors.Is(err, card.ErrNumberTaken) {
			t.Fatalf("CreateCard with the number of a replacement in progress: %v", err)
		}
		if err := cs.ReplaceCard(ctx, num(3), newCard(14, "acc-3"), at); err != nil {
			t.Fatal(err)
		}
		all, err = cs.CardsOfAccount(ctx, "acc-3")
		if err != nil || len(all) != 2 || all[0].Number != num(14) || all[1].Number != num(3) {
			t.Fatalf("CardsOfAccount after the winner: %+v, %v", all, err)
		}
		if err := cs.CreateCard(ctx, newCard(13, "acc-9")); err != nil {
			t.Fatalf("the loser's staged card was not removed: %v", err)
		}
	})
}
