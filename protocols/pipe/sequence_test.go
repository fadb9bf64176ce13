package pipe

import (
	"errors"
	"testing"
)

type step struct {
	kind Kind
	n    int
	eof  bool
}

func TestRequestsSequence(t *testing.T) {
	P, C, E, N, R := step{kind: KindParams}, step{kind: KindChunk, n: 3}, step{kind: KindChunk}, step{kind: KindNone}, step{kind: KindReply}
	EOF := step{eof: true}
	for _, tc := range []struct {
		name  string
		steps []step
		want  []Event // events until the error, if any
		fault bool
	}{
		{"params, chunks, empty chunk", []step{P, C, C, E}, []Event{EventParams, EventChunk, EventChunk, EventEnd}, false},
		{"params, chunks, half-close", []step{P, C, EOF}, []Event{EventParams, EventChunk, EventEnd}, false},
		{"params only, half-close", []step{P, EOF}, []Event{EventParams, EventEnd}, false},
		{"empty chunk then half-close", []step{P, E, EOF}, []Event{EventParams, EventEnd, EventEnd}, false},
		{"chunk first", []step{C}, nil, true},
		{"nothing first", []step{N}, nil, true},
		{"reply from a client", []step{P, R}, []Event{EventParams}, true},
		{"params twice", []step{P, C, P}, []Event{EventParams, EventChunk}, true},
		{"unset message in the pipe", []step{P, N}, []Event{EventParams}, true},
		{"chunk after the end", []step{P, E, C}, []Event{EventParams, EventEnd}, true},
		{"half-close before params", []step{EOF}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Requests
			var got []Event
			var err error
			for _, s := range tc.steps {
				var ev Event
				if s.eof {
					ev, err = r.EOF()
				} else {
					ev, err = r.Next(s.kind, s.n)
				}
				if err != nil {
					break
				}
				got = append(got, ev)
			}
			if !eventsEqual(got, tc.want) {
				t.Errorf("events %v, want %v", got, tc.want)
			}
			var pe *ProtocolError
			if tc.fault != errors.As(err, &pe) || (tc.fault && !pe.Requests) {
				t.Errorf("error %v, want a fault: %v", err, tc.fault)
			}
		})
	}
}

func TestResponsesSequence(t *testing.T) {
	C, E, N, R, P := step{kind: KindChunk, n: 2}, step{kind: KindChunk}, step{kind: KindNone}, step{kind: KindReply}, step{kind: KindParams}
	EOF := step{eof: true}
	for _, tc := range []struct {
		name  string
		steps []step
		want  []Event
		fault bool
	}{
		{"chunks, empty chunk, reply, end", []step{C, C, E, R, EOF}, []Event{EventChunk, EventChunk, EventEnd, EventReply}, false},
		{"chunks, reply, end", []step{C, R, EOF}, []Event{EventChunk, EventReply}, false},
		{"reply alone", []step{R, EOF}, []Event{EventReply}, false},
		{"end without reply", []step{C, EOF}, []Event{EventChunk}, true},
		{"chunk after the empty chunk", []step{E, C}, []Event{EventEnd}, true},
		{"anything after the reply", []step{R, C}, []Event{EventReply}, true},
		{"unset message", []step{N}, nil, true},
		{"parameters from a server", []step{P}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Responses
			var got []Event
			var err error
			for _, s := range tc.steps {
				if s.eof {
					err = r.EOF()
					break
				}
				var ev Event
				if ev, err = r.Next(s.kind, s.n); err != nil {
					break
				}
				got = append(got, ev)
			}
			if !eventsEqual(got, tc.want) {
				t.Errorf("events %v, want %v", got, tc.want)
			}
			var pe *ProtocolError
			if tc.fault != errors.As(err, &pe) || (tc.fault && pe.Requests) {
				t.Errorf("error %v, want a fault: %v", err, tc.fault)
			}
		})
	}
}

func eventsEqual(a, b []Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzSequences feeds arbitrary message sequences (a byte is a message:
// kind in the low bits, chunk length above; 255 is the end of the stream)
// to both checkers: they never panic, a fault is final, and a well-formed
// request sequence is never a fault.
func FuzzSequences(f *testing.F) {
	f.Add([]byte{1, 6, 6, 2})
	f.Add([]byte{2, 6, 3})
	f.Add([]byte{1, 6, 255})
	f.Add([]byte{1, 255, 6})
	f.Fuzz(func(t *testing.T, seq []byte) {
		var req Requests
		var resp Responses
		reqFault, respFault := false, false
		// Well-formed: params, then non-empty chunks, then at most one
		// end (an empty chunk or EOF) followed only by EOFs.
		wellFormed, ended := len(seq) > 0 && seq[0] != 255 && Kind(seq[0]%4) == KindParams, false
		for i, b := range seq {
			k, n := Kind(b%4), int(b>>2)
			var err error
			if b == 255 {
				_, err = req.EOF()
				ended = true
			} else {
				if i > 0 && (k != KindChunk || ended) {
					wellFormed = false
				}
				if i > 0 && k == KindChunk && n == 0 {
					ended = true
				}
				_, err = req.Next(k, n)
			}
			if reqFault && err == nil {
				t.Fatalf("request checker accepted message %d of %v after a fault", i, seq)
			}
			if err != nil {
				reqFault = true
				var pe *ProtocolError
				if !errors.As(err, &pe) || !pe.Requests || pe.Error() == "" {
					t.Fatalf("fault is not a request ProtocolError: %v", err)
				}
			}
			if b == 255 {
				continue
			}
			_, err = resp.Next(k, n)
			if respFault && err == nil {
				t.Fatalf("response checker accepted message %d of %v after a fault", i, seq)
			}
			if err != nil {
				respFault = true
			}
		}
		if wellFormed && reqFault {
			t.Fatalf("well-formed request sequence %v rejected", seq)
		}
	})
}
