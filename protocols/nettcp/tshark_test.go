package nettcp

// tshark's mc-nmf dissector, an implementation of [MC-NMF] we did not
// write, reads a whole session of ours (both directions, as our client and
// server wrote it) as valid framing.

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/overlap-go/overlap/protocols/soap"
)

type segment struct {
	fromClient bool
	data       []byte
}

// tap records every write of both ends, in order.
type tap struct {
	mu   sync.Mutex
	segs []segment
}

type tappedConn struct {
	net.Conn
	t          *tap
	fromClient bool
}

func (c *tappedConn) Write(p []byte) (int, error) {
	c.t.mu.Lock()
	c.t.segs = append(c.t.segs, segment{c.fromClient, append([]byte(nil), p...)})
	c.t.mu.Unlock()
	return c.Conn.Write(p)
}

// writePcap writes the segments as a TCP connection 127.0.0.1:50000 ->
// 127.0.0.1:808 in a raw-IPv4 pcap, with a handshake first.
func writePcap(path string, segs []segment) error {
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], 101) // LINKTYPE_RAW
	b.Write(hdr)
	seq := [2]uint32{1000, 5000} // client, server
	n := uint32(0)
	packet := func(fromClient bool, flags byte, data []byte) {
		src, dst, sp, dp, me, peer := 1, 2, 50000, 808, 0, 1
		if !fromClient {
			src, dst, sp, dp, me, peer = 2, 1, 808, 50000, 1, 0
		}
		p := make([]byte, 40+len(data))
		p[0], p[9] = 0x45, 6
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		p[8] = 64
		copy(p[12:], []byte{127, 0, 0, byte(src)})
		copy(p[16:], []byte{127, 0, 0, byte(dst)})
		t := p[20:]
		binary.BigEndian.PutUint16(t[0:], uint16(sp))
		binary.BigEndian.PutUint16(t[2:], uint16(dp))
		binary.BigEndian.PutUint32(t[4:], seq[me])
		binary.BigEndian.PutUint32(t[8:], seq[peer])
		t[12], t[13] = 5<<4, flags
		binary.BigEndian.PutUint16(t[14:], 65535)
		copy(t[20:], data)
		seq[me] += uint32(len(data))
		if flags&0x02 != 0 {
			seq[me]++
		}
		rec := make([]byte, 16)
		n++
		le.PutUint32(rec[0:], 1_700_000_000)
		le.PutUint32(rec[4:], n)
		le.PutUint32(rec[8:], uint32(len(p)))
		le.PutUint32(rec[12:], uint32(len(p)))
		b.Write(rec)
		b.Write(p)
	}
	packet(true, 0x02, nil)  // SYN
	packet(false, 0x12, nil) // SYN-ACK
	packet(true, 0x10, nil)  // ACK
	for _, s := range segs {
		for d := s.data; len(d) > 0; {
			k := min(len(d), 1400)
			packet(s.fromClient, 0x18, d[:k])
			d = d[k:]
		}
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

func TestTsharkReadsOurFraming(t *testing.T) {
	tshark := os.Getenv("OVERLAP_TSHARK")
	if tshark == "" {
		var err error
		if tshark, err = exec.LookPath("tshark"); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatal("tshark not found (run scripts/deps/mono.sh); this test does not skip in CI")
			}
			t.Skip("tshark not found; scripts/deps/mono.sh installs it")
		}
	}
	tp := &tap{}
	// Real TCP on loopback: net.Pipe has no buffer, and a peer that writes
	// while the other writes too would block it forever.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		sc, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		ch, err := Accept(&tappedConn{sc, tp, false}, "/example", Config{})
		if err != nil {
			done <- err
			return
		}
		svc := NewService()
		svc.Handle(actionPO, func(ctx context.Context, m *Message) (*Reply, error) {
			return &Reply{Action: actionConfirm}, nil
		})
		done <- svc.Serve(context.Background(), ch)
	}()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ch, err := Connect(&tappedConn{cc, tp, true}, "net.tcp://localhost/example", Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(&soap.Headers{Action: actionPO}, orders(3)); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Request(&soap.Headers{Action: actionPO}, orders(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Request(&soap.Headers{Action: "urn:nope"}, nil); err != nil {
		t.Fatal(err)
	}
	ch.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	pcap := filepath.Join(t.TempDir(), "session.pcap")
	if err := writePcap(pcap, tp.segs); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tshark, "-r", pcap, "-d", "tcp.port==808,mc-nmf", "-Y", "mc-nmf", "-T", "fields", "-e", "_ws.col.Info").Output()
	if err != nil {
		t.Fatalf("tshark: %v\n%s", err, out)
	}
	got := strings.TrimSpace(string(out))
	want := strings.Join([]string{
		"Version Record, Mode Record, Via Record, Known Encoding Record, Preamble End Record",
		"Preamble Ack Record",
		"Sized Envelope Record", // one-way
		"Sized Envelope Record", // request
		"Sized Envelope Record", // reply
		"Sized Envelope Record", // unknown action
		"Sized Envelope Record", // ActionNotSupported fault
		"End Record",
		"End Record",
	}, "\n")
	if got != want {
		t.Fatalf("tshark read:\n%s\nwant:\n%s", got, want)
	}
	bad, err := exec.Command(tshark, "-r", pcap, "-d", "tcp.port==808,mc-nmf", "-Y", "_ws.malformed || _ws.expert.severity >= \"warning\"").Output()
	if err != nil || len(bytes.TrimSpace(bad)) != 0 {
		t.Fatalf("tshark found malformed or suspicious packets (%v):\n%s", err, bad)
	}
}
