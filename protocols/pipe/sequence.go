// The pipe protocol as a state machine without I/O: which message may come
// next in each direction of a pipe call, and what a violation is called.

package pipe

import "fmt"

// Kind says what one message of a pipe call carries.
type Kind uint8

// The kinds of message. A request carries the call's parameters or an [in]
// pipe chunk; a response carries an [out] pipe chunk or the reply.
const (
	// KindNone is a message that carries nothing the protocol knows (an
	// unset oneof): always a protocol error.
	KindNone Kind = iota
	// KindParams carries the call's [in] parameters: the first request.
	KindParams
	// KindChunk carries a pipe chunk; an empty chunk ends the pipe.
	KindChunk
	// KindReply carries the [out] parameters: the call completed.
	KindReply
)

// String names the kind, as protocol errors quote it.
func (k Kind) String() string {
	switch k {
	case KindParams:
		return "parameters"
	case KindChunk:
		return "chunk"
	case KindReply:
		return "reply"
	}
	return "empty message"
}

// Event is what a message means once its place in the sequence is checked.
type Event uint8

// The events of a pipe call.
const (
	// EventParams: the call's parameters arrived.
	EventParams Event = iota + 1
	// EventChunk: a non-empty pipe chunk arrived.
	EventChunk
	// EventEnd: the pipe ended (an empty chunk, or the end of the stream
	// where that is allowed).
	EventEnd
	// EventReply: the reply arrived; the [out] pipe is over.
	EventReply
)

// ProtocolError is a message out of sequence or a stream that ended too
// soon. It ends the call, not the connection: the server aborts the call
// with INVALID_ARGUMENT and this text; a client seeing a server break the
// protocol ends the call with INTERNAL.
type ProtocolError struct {
	// Requests is true for a fault in the client's messages, false for one
	// in the server's.
	Requests bool
	// Fault says what was wrong.
	Fault string
}

// Error says which side broke the protocol and how.
func (e *ProtocolError) Error() string {
	side := "responses"
	if e.Requests {
		side = "requests"
	}
	return fmt.Sprintf("pipe protocol error in %s: %s", side, e.Fault)
}

// Requests checks the sequence of a call's request messages: parameters
// once, first; then [in] chunks; an empty chunk or the end of the stream
// ends the [in] pipe; nothing may follow. The zero value is ready.
type Requests struct{ state uint8 }

const (
	reqWantParams uint8 = iota
	reqInPipe
	reqEnded
	reqFailed // a fault was found: the call is over
)

// Next classifies the next request message, of kind k with a chunk of n
// elements.
func (r *Requests) Next(k Kind, n int) (Event, error) {
	fail := func(f string) (Event, error) {
		r.state = reqFailed
		return 0, &ProtocolError{Requests: true, Fault: f}
	}
	switch r.state {
	case reqWantParams:
		if k != KindParams {
			return fail(fmt.Sprintf("first message is a %v, not the call's parameters", k))
		}
		r.state = reqInPipe
		return EventParams, nil
	case reqInPipe:
		switch k {
		case KindChunk:
			if n == 0 {
				r.state = reqEnded
				return EventEnd, nil
			}
			return EventChunk, nil
		case KindParams:
			return fail("parameters sent twice")
		}
		return fail(fmt.Sprintf("a %v in the [in] pipe", k))
	case reqEnded:
		return fail(fmt.Sprintf("a %v after the [in] pipe ended", k))
	}
	return fail("a message after a protocol error")
}

// EOF reports the end of the request stream (the client half-closed).
func (r *Requests) EOF() (Event, error) {
	switch r.state {
	case reqWantParams:
		r.state = reqFailed
		return 0, &ProtocolError{Requests: true, Fault: "the stream ended before the call's parameters"}
	case reqInPipe:
		r.state = reqEnded
	case reqFailed:
		return 0, &ProtocolError{Requests: true, Fault: "the stream ended after a protocol error"}
	}
	return EventEnd, nil
}

// Responses checks the sequence of a call's response messages: [out]
// chunks; an optional empty chunk ends the [out] pipe; then the reply;
// then the end of the stream. The zero value is ready.
type Responses struct{ state uint8 }

const (
	respOutPipe uint8 = iota
	respOutEnded
	respReplied
	respFailed
)

// Next classifies the next response message, of kind k with a chunk of n
// elements.
func (r *Responses) Next(k Kind, n int) (Event, error) {
	fail := func(f string) (Event, error) {
		r.state = respFailed
		return 0, &ProtocolError{Fault: f}
	}
	switch r.state {
	case respReplied:
		return fail(fmt.Sprintf("a %v after the reply", k))
	case respFailed:
		return fail("a message after a protocol error")
	}
	switch k {
	case KindChunk:
		if r.state == respOutEnded {
			return fail("a chunk after the [out] pipe ended")
		}
		if n == 0 {
			r.state = respOutEnded
			return EventEnd, nil
		}
		return EventChunk, nil
	case KindReply:
		r.state = respReplied
		return EventReply, nil
	}
	return fail(fmt.Sprintf("a %v in the [out] pipe", k))
}

// EOF reports that the stream ended with status OK; a call that completes
// must have sent its reply first.
func (r *Responses) EOF() error {
	if r.state != respReplied {
		return &ProtocolError{Fault: "the call ended with status OK but no reply"}
	}
	return nil
}
