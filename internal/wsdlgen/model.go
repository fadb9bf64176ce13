// From the document tree to the model the code is generated from, with
// every unsupported construct reported by name and line.

package wsdlgen

import (
	"encoding/xml"
	"fmt"
	"strings"
	"unicode"
)

type field struct {
	XMLName string
	GoName  string
	XSD     string // the xsd type's local name
	Line    int
}

type element struct {
	Name   string
	GoName string
	Fields []field
}

type opMsg struct {
	Message string
	Action  string
	Elem    *element
}

type fault struct {
	Name   string
	Action string
	Elem   *element
}

type operation struct {
	Name   string
	Input  *opMsg
	Output *opMsg // nil: one-way
	Faults []fault
}

type portType struct {
	Name string
	Ops  []*operation
}

type model struct {
	TargetNS  string
	Elements  []*element
	PortTypes []*portType
}

// xsdTypes maps the supported simple types to their Go types.
var xsdTypes = map[string]string{
	"int": "int32", "unsignedInt": "uint32", "long": "int64", "unsignedLong": "uint64",
	"short": "int16", "unsignedShort": "uint16", "byte": "int8", "unsignedByte": "uint8",
	"boolean": "bool", "string": "string",
}

// errList gathers every problem, so one run reports them all.
type errList struct {
	file string
	errs []string
}

func (e *errList) add(n *node, format string, args ...any) {
	e.errs = append(e.errs, fmt.Sprintf("%s:%d: %s", e.file, n.line, fmt.Sprintf(format, args...)))
}

func (e *errList) err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(e.errs, "\n"))
}

func buildModel(file string, root *node) (*model, error) {
	el := &errList{file: file}
	if !root.is(nsWSDL, "definitions") {
		el.add(root, "the root element is {%s}%s, not a WSDL 1.1 wsdl:definitions", root.name.Space, root.name.Local)
		return nil, el.err()
	}
	m := &model{TargetNS: root.attr("targetNamespace")}
	elems := map[xml.Name]*element{}
	messages := map[string]xml.Name{}
	for _, c := range root.children {
		switch {
		case c.is(nsWSDL, "types"):
			for _, s := range c.children {
				if !s.is(nsXSD, "schema") {
					el.add(s, "types: {%s}%s is not supported (only xsd:schema)", s.name.Space, s.name.Local)
					continue
				}
				tns := s.attr("targetNamespace")
				if q := s.attr("elementFormDefault"); q != "qualified" {
					el.add(s, "schema: elementFormDefault %q is not supported (only \"qualified\")", q)
				}
				for _, e := range s.children {
					if x := schemaElement(el, e); x != nil {
						elems[xml.Name{Space: tns, Local: x.Name}] = x
						m.Elements = append(m.Elements, x)
					}
				}
			}
		case c.is(nsWSDL, "message"):
			parts := 0
			for _, p := range c.children {
				if !p.is(nsWSDL, "part") {
					continue
				}
				parts++
				if p.attr("element") == "" {
					el.add(p, "message %s: part %s has no element= (rpc/type parts are not supported)", c.attr("name"), p.attr("name"))
					continue
				}
				messages[c.attr("name")] = p.qname(p.attr("element"))
			}
			if parts != 1 {
				el.add(c, "message %s: %d parts (exactly one is supported)", c.attr("name"), parts)
			}
		}
	}
	resolve := func(n *node, msg string) *opMsg {
		q := n.qname(msg)
		en, ok := messages[q.Local]
		if !ok || q.Space != m.TargetNS {
			el.add(n, "message %s is not defined", msg)
			return nil
		}
		e := elems[en]
		if e == nil {
			el.add(n, "element {%s}%s of message %s is not defined", en.Space, en.Local, q.Local)
			return nil
		}
		return &opMsg{Message: q.Local, Action: n.attrNS("Action", nsWSAW, nsWSAM), Elem: e}
	}
	for _, c := range root.children {
		if !c.is(nsWSDL, "portType") {
			continue
		}
		pt := &portType{Name: c.attr("name")}
		for _, o := range c.children {
			if !o.is(nsWSDL, "operation") {
				continue
			}
			op := &operation{Name: o.attr("name")}
			for _, io := range o.children {
				switch {
				case io.is(nsWSDL, "input"):
					op.Input = resolve(io, io.attr("message"))
				case io.is(nsWSDL, "output"):
					op.Output = resolve(io, io.attr("message"))
				case io.is(nsWSDL, "fault"):
					if f := resolve(io, io.attr("message")); f != nil {
						op.Faults = append(op.Faults, fault{Name: io.attr("name"), Action: f.Action, Elem: f.Elem})
					}
				}
			}
			if op.Input == nil {
				el.add(o, "operation %s has no usable input", op.Name)
				continue
			}
			for _, x := range []*opMsg{op.Input, op.Output} {
				if x != nil && x.Action == "" {
					el.add(o, "operation %s: message %s has no wsaw:Action (default actions are not supported)", op.Name, x.Message)
				}
			}
			pt.Ops = append(pt.Ops, op)
		}
		m.PortTypes = append(m.PortTypes, pt)
	}
	if len(m.PortTypes) == 0 {
		el.add(root, "no portType")
	}
	return m, el.err()
}

// schemaElement reads a global xsd:element with an anonymous sequence.
func schemaElement(el *errList, e *node) *element {
	if !e.is(nsXSD, "element") {
		el.add(e, "schema: xsd:%s is not supported (only global xsd:element)", e.name.Local)
		return nil
	}
	x := &element{Name: e.attr("name"), GoName: goName(e.attr("name"))}
	if e.attr("type") != "" || len(e.children) != 1 || !e.children[0].is(nsXSD, "complexType") {
		el.add(e, "element %s: only an anonymous xsd:complexType is supported", x.Name)
		return nil
	}
	ct := e.children[0]
	if len(ct.children) == 0 {
		return x // an empty element
	}
	if len(ct.children) != 1 || !ct.children[0].is(nsXSD, "sequence") {
		el.add(ct, "element %s: xsd:%s is not supported (only xsd:sequence)", x.Name, ct.children[0].name.Local)
		return nil
	}
	for _, f := range ct.children[0].children {
		if !f.is(nsXSD, "element") {
			el.add(f, "element %s: xsd:%s in a sequence is not supported", x.Name, f.name.Local)
			continue
		}
		name := f.attr("name")
		t := f.qname(f.attr("type"))
		if t.Space != nsXSD || xsdTypes[t.Local] == "" {
			el.add(f, "element %s, field %s: type %s is not supported", x.Name, name, f.attr("type"))
			continue
		}
		if mo := f.attr("minOccurs"); mo != "" && mo != "0" && mo != "1" {
			el.add(f, "element %s, field %s: minOccurs %s is not supported", x.Name, name, mo)
		}
		if mo := f.attr("maxOccurs"); mo != "" && mo != "1" {
			el.add(f, "element %s, field %s: maxOccurs %s is not supported", x.Name, name, mo)
		}
		if f.attr("nillable") == "true" {
			el.add(f, "element %s, field %s: nillable is not supported", x.Name, name)
		}
		x.Fields = append(x.Fields, field{XMLName: name, GoName: goName(name), XSD: t.Local, Line: f.line})
	}
	return x
}

// goName exports an XML name as a Go identifier.
func goName(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 || unicode.IsDigit([]rune(b.String())[0]) {
		return "X" + b.String()
	}
	return b.String()
}
