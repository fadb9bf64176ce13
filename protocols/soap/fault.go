// SOAP 1.2 faults, written and read.

package soap

import (
	"fmt"
	"strings"
)

// The SOAP 1.2 fault codes (local names in the envelope namespace).
const (
	CodeSender              = "Sender"
	CodeReceiver            = "Receiver"
	CodeMustUnderstand      = "MustUnderstand"
	CodeVersionMismatch     = "VersionMismatch"
	CodeDataEncodingUnknown = "DataEncodingUnknown"
)

// WS-Addressing subcodes.
const (
	SubcodeActionNotSupported   = "ActionNotSupported"
	SubcodeInvalidAddressingHdr = "InvalidAddressingHeader"
)

// Fault is a SOAP 1.2 fault: an error a handler returns to have it sent, and
// what a client reads back.
type Fault struct {
	// Code is a SOAP 1.2 code (CodeSender, ...).
	Code string
	// SubcodeSpace and Subcode name an optional subcode ({NSAddressing}
	// ActionNotSupported, ...). On reading, only the local name is kept.
	SubcodeSpace, Subcode string
	// Reason is the human-readable text.
	Reason string
	// Action is the WS-Addressing action of the fault message (empty means
	// FaultAction).
	Action string
	// Detail is the detail's content, already encoded (written as is).
	Detail []byte
}

func (f *Fault) Error() string {
	var b strings.Builder
	b.WriteString("soap fault ")
	b.WriteString(f.Code)
	if f.Subcode != "" {
		b.WriteString("/" + f.Subcode)
	}
	if f.Reason != "" {
		b.WriteString(": " + f.Reason)
	}
	return b.String()
}

// Senderf returns a Sender fault with a formatted reason.
func Senderf(format string, args ...any) *Fault {
	return &Fault{Code: CodeSender, Reason: fmt.Sprintf(format, args...)}
}

// ActionNotSupported returns the WS-Addressing fault for an action no
// operation handles (the seed's WS_E_ENDPOINT_ACTION_NOT_SUPPORTED).
func ActionNotSupported(action string) *Fault {
	detail := AppendText([]byte(`<a:ProblemAction xmlns:a="`+NSAddressing+`"><a:Action>`), action)
	return &Fault{
		Code: CodeSender, SubcodeSpace: NSAddressing, Subcode: SubcodeActionNotSupported,
		Reason: fmt.Sprintf("The message with Action '%s' cannot be processed at the receiver.", action),
		Detail: append(detail, "</a:Action></a:ProblemAction>"...),
	}
}

// AppendFault appends f as the content of a Body.
func AppendFault(b []byte, f *Fault) []byte {
	b = append(b, `<s:Fault><s:Code><s:Value>s:`...)
	b = append(b, f.Code...)
	b = append(b, `</s:Value>`...)
	if f.Subcode != "" {
		b = append(b, `<s:Subcode><s:Value xmlns:f="`...)
		b = AppendAttr(b, f.SubcodeSpace)
		b = append(b, `">f:`...)
		b = append(b, f.Subcode...)
		b = append(b, `</s:Value></s:Subcode>`...)
	}
	b = append(b, `</s:Code><s:Reason><s:Text xml:lang="en-US">`...)
	b = AppendText(b, f.Reason)
	b = append(b, `</s:Text></s:Reason>`...)
	if len(f.Detail) > 0 {
		b = append(b, `<s:Detail>`...)
		b = append(b, f.Detail...)
		b = append(b, `</s:Detail>`...)
	}
	return append(b, `</s:Fault>`...)
}

// ReadFault reads a Fault element whose start NextChild has just returned.
// Each element of the Detail is passed to detail (nil skips them), which
// must consume it entirely (a generated decoder, or Skip).
func (r *Reader) ReadFault(detail func(r *Reader, start *Token) error) (*Fault, error) {
	f := &Fault{}
	for {
		t, ok, err := r.NextChild()
		if err != nil || !ok {
			return f, err
		}
		switch {
		case t.Name.Is(NSEnvelope, "Code"):
			if err := r.readCode(f, false); err != nil {
				return f, err
			}
		case t.Name.Is(NSEnvelope, "Reason"):
			for {
				t, ok, err := r.NextChild()
				if err != nil {
					return f, err
				}
				if !ok {
					break
				}
				if t.Name.Is(NSEnvelope, "Text") && f.Reason == "" {
					if f.Reason, err = r.ReadString(nil); err != nil {
						return f, err
					}
				} else if err := r.Skip(); err != nil {
					return f, err
				}
			}
		case t.Name.Is(NSEnvelope, "Detail") && detail != nil:
			for {
				t, ok, err := r.NextChild()
				if err != nil {
					return f, err
				}
				if !ok {
					break
				}
				if err := detail(r, t); err != nil {
					return f, err
				}
			}
		default:
			if err := r.Skip(); err != nil {
				return f, err
			}
		}
	}
}

// readCode reads Code (or Subcode) content: a Value and an optional
// Subcode.
func (r *Reader) readCode(f *Fault, sub bool) error {
	for {
		t, ok, err := r.NextChild()
		if err != nil || !ok {
			return err
		}
		switch {
		case t.Name.Is(NSEnvelope, "Value"):
			v, err := r.ReadString(nil)
			if err != nil {
				return err
			}
			if i := strings.IndexByte(v, ':'); i >= 0 {
				v = v[i+1:]
			}
			if sub {
				if f.Subcode == "" {
					f.Subcode = v
				}
			} else {
				f.Code = v
			}
		case t.Name.Is(NSEnvelope, "Subcode"):
			if err := r.readCode(f, true); err != nil {
				return err
			}
		default:
			if err := r.Skip(); err != nil {
				return err
			}
		}
	}
}
