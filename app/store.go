package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/bacninh/thuvienso/config"
	"github.com/bacninh/thuvienso/mongo"
	"github.com/bacninh/thuvienso/sqlite"
	"github.com/bacninh/thuvienso/store"
)

// OpenStore opens the store cfg describes: MongoDB when MONGODB_URI is
// set, else the embedded SQLite database in DATA_DIR (created when
// missing). The server and the command-line tools (import, harvest) open
// it the same way. The caller closes the Set.
func OpenStore(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*store.Set, error) {
	var s *store.Set
	if cfg.MongoURI != "" {
		db, err := mongo.Open(ctx, cfg.MongoURI, cfg.MongoDatabase)
		if err != nil {
			return nil, fmt.Errorf("open MongoDB: %w", err)
		}
		s = db.Stores()
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data folder: %w", err)
		}
		db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "thuvienso.db"))
		if err != nil {
			return nil, fmt.Errorf("open embedded store: %w", err)
		}
		s = db.Stores()
	}
	logger.Info("store open", "kind", s.Kind)
	return s, nil
}
