// Package library owns the member libraries of the provincial network: what a
// library is (type, place in the hierarchy, address, coordinates, opening
// hours, whether readers may pick up holds there), the rules for finding
// them, and the store interface that keeps them.
package library

import (
	"context"
	"time"
)

// Type is the kind of a member library.
type Type string

// The kinds of library in the network.
const (
	TypeProvincial Type = "PROVINCIAL"
	TypeDistrict   Type = "DISTRICT"
	TypeCommune    Type = "COMMUNE"
	TypeSchool     Type = "SCHOOL"
	TypeVillage    Type = "VILLAGE"
	TypePrivate    Type = "PRIVATE"
)

// Types lists every Type, in the order of the network's hierarchy.
var Types = []Type{TypeProvincial, TypeDistrict, TypeCommune, TypeSchool, TypeVillage, TypePrivate}

// Valid reports whether t is one of Types.
func (t Type) Valid() bool {
	for _, v := range Types {
		if v == t {
			return true
		}
	}
	return false
}

// Library is one member library.
type Library struct {
	ID string
	// Code is the short unique code staff and imports use (e.g. "BN-TS").
	Code string
	Name string
	Type Type
	// ParentID is the library this one reports to ("" for the provincial library).
	ParentID string
	// District and Commune name the administrative units the library is in.
	District string
	Commune  string
	Address  string
	// Location is nil when the coordinates are unknown.
	Location *Point
	Hours    []OpeningHours
	// PickupPoint is true when readers may collect holds here.
	PickupPoint bool
	Contact     Contact
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Point is a WGS 84 position.
type Point struct {
	Lat, Lng float64
}

// OpeningHours is one opening period on one weekday, in the province's time
// zone. A day with two periods (morning and afternoon) has two entries.
type OpeningHours struct {
	Weekday time.Weekday
	// Opens and Closes are "HH:MM", 24-hour clock.
	Opens, Closes string
}

// Contact is how readers reach a library.
type Contact struct {
	Phone, Email, Website string
}

// Filter narrows a listing. Zero fields do not filter.
type Filter struct {
	Types    []Type
	District string
	// Text matches name, code, commune, district and address, with or
	// without diacritics.
	Text string
	// Near orders by distance from a point and keeps those within RadiusKm.
	Near *Near
	// PickupOnly keeps libraries where holds may be collected.
	PickupOnly bool
}

// Near is a point and a radius in kilometres.
type Near struct {
	Point    Point
	RadiusKm float64
}

// Store keeps libraries. Implementations: sqlite.LibraryStore, mongo.LibraryStore.
type Store interface {
	// CreateLibrary inserts l; a taken code fails with CONFLICT.
	CreateLibrary(ctx context.Context, l *Library) error
	// UpdateLibrary replaces the stored library with the same ID.
	UpdateLibrary(ctx context.Context, l *Library) error
	// Library returns one library by ID, or thuvienso.ErrNotFound.
	Library(ctx context.Context, id string) (*Library, error)
	// LibraryByCode returns one library by code, or thuvienso.ErrNotFound.
	LibraryByCode(ctx context.Context, code string) (*Library, error)
	// LibrariesByID returns the libraries with the given IDs that exist, in
	// any order: one round trip for a dataloader batch.
	LibrariesByID(ctx context.Context, ids []string) ([]*Library, error)
	// Libraries returns all libraries of the given types (all when empty) in
	// the given district (all when empty), ordered by code.
	Libraries(ctx context.Context, types []Type, district string) ([]*Library, error)
	// CountLibraries returns how many libraries there are.
	CountLibraries(ctx context.Context) (int, error)
}
