package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bacninh/thuvienso/loadgen"
)

// child is a process the load test started: the server or the bare
// server.
type child struct {
	name    string
	cmd     *exec.Cmd
	url     string // http://host:port
	started time.Time
	exited  chan struct{}
	waitErr error
}

// startupTimeout bounds how long a child may take to print its address.
const startupTimeout = 3 * time.Minute

// startChild starts opts.exe with args and waits for the line of its
// standard output that holds marker followed by its http:// address.
func startChild(ctx context.Context, name string, opts loadOptions, args []string, marker string) (*child, error) {
	cmd := exec.Command(opts.exe, args...)
	cmd.Env = opts.env
	cmd.Stderr = opts.serverLog
	if cmd.Stderr == nil {
		cmd.Stderr = io.Discard
	}
	found := make(chan string, 1)
	cmd.Stdout = &lineWatcher{marker: marker, found: found}
	killWithParent(cmd)
	c := &child{name: name, cmd: cmd, started: time.Now(), exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench load: starting the %s: %w", name, err)
	}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	timer := time.NewTimer(startupTimeout)
	defer timer.Stop()
	select {
	case u := <-found:
		c.url = strings.TrimSuffix(u, "/graphql")
		return c, nil
	case <-c.exited:
		return nil, fmt.Errorf("bench load: the %s exited at start: %v", name, c.waitErr)
	case <-timer.C:
		c.stop(nil)
		return nil, fmt.Errorf("bench load: the %s printed no address within %v", name, startupTimeout)
	case <-ctx.Done():
		c.stop(nil)
		return nil, ctx.Err()
	}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop asks the child to end (SIGTERM) and kills it after 30 seconds.
func (c *child) stop(log *slog.Logger) {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
	if log != nil {
		log.Info("stopped", "process", c.name, "pid", c.pid(), "exit", c.waitErr)
	}
}

// lineWatcher is a child's standard output: it sends the first http://
// address found on a line holding marker, and drops everything else.
type lineWatcher struct {
	marker string
	found  chan<- string
	buf    []byte
	done   bool
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	if w.done {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if _, after, ok := strings.Cut(line, w.marker); ok {
			if f := strings.Fields(after); len(f) > 0 && strings.HasPrefix(f[0], "http://") {
				w.found <- f[0]
				w.done, w.buf = true, nil
				return len(p), nil
			}
		}
	}
}

// startServer starts `thuvienso serve` on dir with every limit that would
// refuse load turned off, on a free loopback port, and waits for /readyz.
func startServer(ctx context.Context, opts loadOptions, dir string, log *slog.Logger) (*child, error) {
	args := []string{"serve", "-data-dir", dir, "-addr", "127.0.0.1:0", "-demo", "never",
		"-rate-limit-ip", "0", "-rate-limit-reader", "0",
		"-redis-url", opts.redisURL, "-mongodb-uri", "", "-keys-dir", "", "-index-dir", "",
		"-persisted-operations-only=false", "-trusted-proxies", "", "-push", "log",
		"-log-level", "warn", "-log-format", "text"}
	log.Info("starting the server", "data", dir)
	c, err := startChild(ctx, "server", opts, args, "GraphQL:")
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, c); err != nil {
		c.stop(log)
		return nil, err
	}
	return c, nil
}

// waitReady polls /readyz until it answers 200.
func waitReady(ctx context.Context, c *child) error {
	hc := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(startupTimeout)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url+"/readyz", nil)
		if err != nil {
			return err
		}
		if resp, err := hc.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench load: the server was not ready within %v", startupTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.exited:
			return fmt.Errorf("bench load: the server exited: %v", c.waitErr)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// firstSearch returns the time from starting the server to its first
// answered search (the cold-start query, every facet).
func firstSearch(ctx context.Context, gql *loadgen.GraphQL, srv *child) (time.Duration, error) {
	body := searchRequest(coldStartQuery, nil, 20, 10).Body()
	for range 100 {
		res, _, err := gql.Post(ctx, "", body)
		if err == nil && res.Err() == nil {
			return time.Since(srv.started), nil
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, errors.New("bench load: the server answers no search")
}

// newHTTPClient is a keep-alive client for conns concurrent requests.
func newHTTPClient(conns int) *http.Client {
	return &http.Client{Transport: loadgen.NewTransport(conns), Timeout: 2 * time.Minute}
}

// procMemory is a process's resident set from /proc/<pid>/status, MiB.
type procMemory struct {
	rss, peak, anon, file float64
}

// readProcMemory reads VmRSS, VmHWM, RssAnon and RssFile of the process
// proc names under /proc: a pid, or "self" (zeros where there is no /proc).
func readProcMemory(proc string) procMemory {
	var m procMemory
	b, err := os.ReadFile(filepath.Join("/proc", proc, "status"))
	if err != nil {
		return m
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			m.rss = kb / 1024
		case "VmHWM":
			m.peak = kb / 1024
		case "RssAnon":
			m.anon = kb / 1024
		case "RssFile":
			m.file = kb / 1024
		}
	}
	return m
}

// procCPUSeconds is the CPU time (user and system) pid has used, 0 when
// unknown.
func procCPUSeconds(pid int) float64 {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / clockTicks
}

// cpuWatch measures, over a phase, the CPU used by the server, the bare
// server, this process (the load generator) and every other process.
type cpuWatch struct {
	start          cpuSample
	server, bare   int
	serverS, bareS float64
}

// cpuUse is the CPU used during a phase, in cores (CPU seconds per
// second): the server, the bare server, the load generator, and the other
// processes of the machine.
type cpuUse struct {
	server, bare, loadgen, others float64
}

func watchCPU(server, bare int) *cpuWatch {
	return &cpuWatch{start: readCPU(), server: server, bare: bare,
		serverS: procCPUSeconds(server), bareS: procCPUSeconds(bare)}
}

// use returns the CPU used since watchCPU.
func (w *cpuWatch) use() cpuUse {
	now := readCPU()
	wall := now.at.Sub(w.start.at).Seconds()
	if wall <= 0 {
		return cpuUse{}
	}
	u := cpuUse{
		server:  (procCPUSeconds(w.server) - w.serverS) / wall,
		bare:    (procCPUSeconds(w.bare) - w.bareS) / wall,
		loadgen: (now.self - w.start.self) / wall,
	}
	if w.start.busy > 0 {
		u.others = max(0, (now.busy-w.start.busy)/wall-u.server-u.bare-u.loadgen)
	}
	return u
}

// bareResponse is an answer the bare server gives to every request: the
// server's own answer to the cached search, headers and bytes as sent.
type bareResponse struct {
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   []byte      `json:"body"`
}

// ServeHTTP reads the request (as any server must) and writes the answer.
func (b *bareResponse) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	h := w.Header()
	for k, v := range b.Header {
		h[k] = v
	}
	w.WriteHeader(b.Status)
	_, _ = w.Write(b.Body)
}

// bareMarker starts the line on which the bare server names its address.
const bareMarker = "bare server:"

// bareServerCmd runs `thuvienso bench bare-server -response FILE`, a
// bare net/http server that gives every request the answer in FILE: what
// the load test compares the server's cached searches with.
func bareServerCmd(ctx context.Context, args []string, out io.Writer) error {
	flags := flag.NewFlagSet("bench bare-server", flag.ContinueOnError)
	flags.SetOutput(out)
	addr := flags.String("addr", "127.0.0.1:0", "listen address")
	file := flags.String("response", "", "JSON file of the answer: status, header, body (base64)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	b, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("bench bare-server: %w", err)
	}
	var resp bareResponse
	if err := json.Unmarshal(b, &resp); err != nil {
		return fmt.Errorf("bench bare-server: %s: %w", *file, err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("bench bare-server: %w", err)
	}
	srv := &http.Server{Handler: &resp, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "%s http://%s\n", bareMarker, ln.Addr())
	var wg sync.WaitGroup
	wg.Go(func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	err = srv.Serve(ln)
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// captureCached asks the server for the cached search twice (the first
// fills its cache) and keeps the second answer as it came over the wire.
func captureCached(ctx context.Context, gql *loadgen.GraphQL, body []byte) (*bareResponse, error) {
	var raw *loadgen.RawResponse
	for range 2 {
		var err error
		if raw, _, err = gql.Raw(ctx, "", body); err != nil {
			return nil, fmt.Errorf("bench load: cached search: %w", err)
		}
	}
	res, err := loadgen.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("bench load: cached search: %w", err)
	}
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("bench load: cached search: %w", err)
	}
	h := raw.Header.Clone()
	for _, k := range []string{"Date", "Content-Length", "Transfer-Encoding", "X-Request-Id"} {
		h.Del(k)
	}
	return &bareResponse{Status: raw.Status, Header: h, Body: raw.Body}, nil
}

// startBareServer captures the server's answer to the cached search and
// starts the bare server with it.
func startBareServer(ctx context.Context, opts loadOptions, dir string, gql *loadgen.GraphQL, w *workload, rep *loadReport, log *slog.Logger) (*child, error) {
	resp, err := captureCached(ctx, gql, w.cachedBody)
	if err != nil {
		return nil, err
	}
	rep.captured, rep.capturedGz = len(resp.Body), resp.Header.Get("Content-Encoding") == "gzip"
	w.cachedAnswer = resp.Body
	b, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "bare-response.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		return nil, fmt.Errorf("bench load: %w", err)
	}
	log.Info("starting the bare server", "answer bytes", len(resp.Body), "gzip", rep.capturedGz)
	return startChild(ctx, "bare server", opts, []string{"bench", "bare-server", "-addr", "127.0.0.1:0", "-response", file}, bareMarker)
}
