package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	mongodrv "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	thuvienso "github.com/bacninh/thuvienso"
	"github.com/bacninh/thuvienso/library"
)

// LibraryStore implements library.Store on the "libraries" collection.
type LibraryStore struct {
	c *mongodrv.Collection
}

var _ library.Store = (*LibraryStore)(nil)

// libraryDoc is a library as stored.
type libraryDoc struct {
	ID       string `bson:"_id"`
	Code     string `bson:"code"`
	Name     string `bson:"name"`
	Type     string `bson:"type"`
	ParentID string `bson:"parentId,omitempty"`
	District string `bson:"district"`
	Commune  string `bson:"commune"`
	Address  string `bson:"address"`
	// Location is a GeoJSON point, ready for a 2dsphere index on MongoDB.
	Location    *geoPoint     `bson:"location,omitempty"`
	Hours       []hoursDoc    `bson:"hours"`
	PickupPoint bool          `bson:"pickupPoint"`
	Contact     contactDoc    `bson:"contact"`
	CreatedAt   bson.DateTime `bson:"createdAt"`
	CreatedAtNs int32         `bson:"createdAtNs,omitempty"`
	UpdatedAt   bson.DateTime `bson:"updatedAt"`
	UpdatedAtNs int32         `bson:"updatedAtNs,omitempty"`
}

// geoPoint is a GeoJSON Point: coordinates are [longitude, latitude].
type geoPoint struct {
	Type        string     `bson:"type"`
	Coordinates [2]float64 `bson:"coordinates"`
}

// hoursDoc is one library.OpeningHours.
type hoursDoc struct {
	Weekday int    `bson:"weekday"`
	Opens   string `bson:"opens"`
	Closes  string `bson:"closes"`
}

// contactDoc is a library.Contact.
type contactDoc struct {
	Phone   string `bson:"phone,omitempty"`
	Email   string `bson:"email,omitempty"`
	Website string `bson:"website,omitempty"`
}

// toLibraryDoc converts l to its stored form.
func toLibraryDoc(l *library.Library) *libraryDoc {
	d := &libraryDoc{
		ID: l.ID, Code: l.Code, Name: l.Name, Type: string(l.Type), ParentID: l.ParentID,
		District: l.District, Commune: l.Commune, Address: l.Address,
		Hours:       make([]hoursDoc, 0, len(l.Hours)),
		PickupPoint: l.PickupPoint,
		Contact:     contactDoc{Phone: l.Contact.Phone, Email: l.Contact.Email, Website: l.Contact.Website},
	}
	if l.Location != nil {
		d.Location = &geoPoint{Type: "Point", Coordinates: [2]float64{l.Location.Lng, l.Location.Lat}}
	}
	for _, h := range l.Hours {
		d.Hours = append(d.Hours, hoursDoc{Weekday: int(h.Weekday), Opens: h.Opens, Closes: h.Closes})
	}
	d.CreatedAt, d.CreatedAtNs = toDate(l.CreatedAt)
	d.UpdatedAt, d.UpdatedAtNs = toDate(l.UpdatedAt)
	return d
}

// library converts d back to the domain type.
func (d *libraryDoc) library() *library.Library {
	l := &library.Library{
		ID: d.ID, Code: d.Code, Name: d.Name, Type: library.Type(d.Type), ParentID: d.ParentID,
		District: d.District, Commune: d.Commune, Address: d.Address,
		PickupPoint: d.PickupPoint,
		Contact:     library.Contact{Phone: d.Contact.Phone, Email: d.Contact.Email, Website: d.Contact.Website},
		CreatedAt:   fromDate(d.CreatedAt, d.CreatedAtNs),
		UpdatedAt:   fromDate(d.UpdatedAt, d.UpdatedAtNs),
	}
	if d.Location != nil {
		l.Location = &library.Point{Lat: d.Location.Coordinates[1], Lng: d.Location.Coordinates[0]}
	}
	for _, h := range d.Hours {
		l.Hours = append(l.Hours, library.OpeningHours{Weekday: time.Weekday(h.Weekday), Opens: h.Opens, Closes: h.Closes})
	}
	return l
}

// CreateLibrary inserts l, giving it a new ID when it has none; a taken code
// fails with library.ErrCodeTaken.
func (s *LibraryStore) CreateLibrary(ctx context.Context, l *library.Library) error {
	if l.ID == "" {
		l.ID = newID()
	}
	_, err := s.c.InsertOne(ctx, toLibraryDoc(l))
	if err != nil {
		return fmt.Errorf("creating library %s: %w", l.Code, s.writeError(ctx, err, l))
	}
	return nil
}

// UpdateLibrary replaces the library with l.ID; thuvienso.ErrNotFound when
// there is none, library.ErrCodeTaken when another library has l.Code.
func (s *LibraryStore) UpdateLibrary(ctx context.Context, l *library.Library) error {
	res, err := s.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: l.ID}}, toLibraryDoc(l))
	if err != nil {
		return fmt.Errorf("updating library %s: %w", l.ID, s.writeError(ctx, err, l))
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("updating library %s: %w", l.ID, thuvienso.ErrNotFound)
	}
	return nil
}

// writeError maps a failed write of l to library.ErrCodeTaken when another
// library holds its code. MongoDB names the index in its duplicate-key
// error; FerretDB names none on insert and reports an update's unique
// violation as an internal error, so the code is looked up to be sure.
func (s *LibraryStore) writeError(ctx context.Context, err error, l *library.Library) error {
	if idx, dup := duplicateIndex(err); dup && idx == idxLibraryCode {
		return library.ErrCodeTaken
	}
	taken, lerr := exists(ctx, s.c, bson.D{{Key: "code", Value: l.Code}, {Key: "_id", Value: bson.D{{Key: "$ne", Value: l.ID}}}})
	if lerr == nil && taken {
		return library.ErrCodeTaken
	}
	return err
}

// Library returns the library with this ID, or thuvienso.ErrNotFound.
func (s *LibraryStore) Library(ctx context.Context, id string) (*library.Library, error) {
	l, err := s.findOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return nil, fmt.Errorf("library %s: %w", id, err)
	}
	return l, nil
}

// LibraryByCode returns the library with this code, or thuvienso.ErrNotFound.
func (s *LibraryStore) LibraryByCode(ctx context.Context, code string) (*library.Library, error) {
	l, err := s.findOne(ctx, bson.D{{Key: "code", Value: code}})
	if err != nil {
		return nil, fmt.Errorf("library with code %s: %w", code, err)
	}
	return l, nil
}

// LibrariesByID returns the libraries with these IDs that exist, ordered
// by code, in one query.
func (s *LibraryStore) LibrariesByID(ctx context.Context, ids []string) ([]*library.Library, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ls, err := s.find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("libraries by id: %w", err)
	}
	return ls, nil
}

// Libraries returns the libraries of these types (all when empty) in this
// district (all when empty), ordered by code.
func (s *LibraryStore) Libraries(ctx context.Context, types []library.Type, district string) ([]*library.Library, error) {
	filter := bson.D{}
	if len(types) > 0 {
		ts := make([]string, len(types))
		for i, t := range types {
			ts[i] = string(t)
		}
		filter = append(filter, bson.E{Key: "type", Value: bson.D{{Key: "$in", Value: ts}}})
	}
	if district != "" {
		filter = append(filter, bson.E{Key: "district", Value: district})
	}
	ls, err := s.find(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("listing libraries: %w", err)
	}
	return ls, nil
}

// CountLibraries returns how many libraries there are.
func (s *LibraryStore) CountLibraries(ctx context.Context) (int, error) {
	n, err := s.c.CountDocuments(ctx, bson.D{})
	if err != nil {
		return 0, fmt.Errorf("counting libraries: %w", err)
	}
	return int(n), nil
}

// findOne returns the one library matching filter, or thuvienso.ErrNotFound.
func (s *LibraryStore) findOne(ctx context.Context, filter bson.D) (*library.Library, error) {
	var d libraryDoc
	err := s.c.FindOne(ctx, filter).Decode(&d)
	if errors.Is(err, mongodrv.ErrNoDocuments) {
		return nil, thuvienso.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return d.library(), nil
}

// find returns the libraries matching filter, ordered by code.
func (s *LibraryStore) find(ctx context.Context, filter bson.D) ([]*library.Library, error) {
	cur, err := s.c.Find(ctx, filter, options.Find().SetSort(bson.D{{Key: "code", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var docs []libraryDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	var ls []*library.Library
	for i := range docs {
		ls = append(ls, docs[i].library())
	}
	return ls, nil
}
