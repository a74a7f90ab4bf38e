package redis

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// GoRedisLogInterval is the least time between two of go-redis' own log
// messages (such as one per failed dial during an outage) passed on to slog;
// the ones in between are counted and the count is logged with the next.
const GoRedisLogInterval = 30 * time.Second

var installLogger sync.Once

// routeGoRedisLogs sends go-redis' internal, process-wide log messages to
// logger, throttled. The first Open installs it; go-redis has a single
// logger for the whole process.
func routeGoRedisLogs(logger *slog.Logger) {
	installLogger.Do(func() {
		goredis.SetLogger(&throttledLogger{log: logger, every: GoRedisLogInterval})
	})
}

type throttledLogger struct {
	log   *slog.Logger
	every time.Duration

	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// Printf implements go-redis' internal.Logging.
func (l *throttledLogger) Printf(ctx context.Context, format string, v ...any) {
	l.mu.Lock()
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := l.suppressed
	l.last, l.suppressed = now, 0
	l.mu.Unlock()
	l.log.WarnContext(ctx, "go-redis: "+fmt.Sprintf(format, v...), "suppressed_since_last", suppressed)
}
