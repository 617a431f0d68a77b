package localstack

import (
	"io"
	"net"
	"net/url"
	"sync"
)

// forwarder accepts connections on the public address and copies bytes both
// ways to kumo's own listener. kumo's library API serves only on a random
// port (httptest), so the fixed port external tools expect is a plain TCP
// relay: no HTTP parsing, one extra loopback hop.
type forwarder struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
}

func newForwarder(ln net.Listener) *forwarder {
	return &forwarder{ln: ln, conns: map[net.Conn]struct{}{}}
}

// Addr returns the public listen address.
func (f *forwarder) Addr() net.Addr { return f.ln.Addr() }

// start accepts connections and relays them to target (host:port) until
// close.
func (f *forwarder) start(target string) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := f.ln.Accept()
			if err != nil {
				return // closed
			}
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.relay(c, target)
			}()
		}
	}()
}

func (f *forwarder) relay(client net.Conn, target string) {
	upstream, err := net.Dial("tcp", target)
	if err != nil {
		_ = client.Close()
		return
	}
	if !f.track(client, upstream) {
		return
	}
	defer f.untrack(client, upstream)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); pipe(upstream, client) }()
	go func() { defer wg.Done(); pipe(client, upstream) }()
	wg.Wait()
}

// pipe copies src to dst, then half-closes dst so the peer sees EOF while the
// other direction keeps flowing.
func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	if tcp, ok := dst.(*net.TCPConn); ok {
		_ = tcp.CloseWrite()
		return
	}
	_ = dst.Close()
}

// track registers a relayed pair, or closes it when the forwarder is closing.
func (f *forwarder) track(conns ...net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		for _, c := range conns {
			_ = c.Close()
		}
		return false
	}
	for _, c := range conns {
		f.conns[c] = struct{}{}
	}
	return true
}

func (f *forwarder) untrack(conns ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
		delete(f.conns, c)
	}
}

// close stops accepting, closes every relayed connection and waits for the
// relays to end.
func (f *forwarder) close() {
	f.mu.Lock()
	f.done = true
	_ = f.ln.Close()
	for c := range f.conns {
		_ = c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// hostPort returns the host:port of a URL such as kumo's "http://127.0.0.1:1234".
func hostPort(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	return u.Host
}
