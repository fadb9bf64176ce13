// Package wsdlgen is overlap's Wsutil: it reads a WSDL 1.1 document with
// XSD types and generates Go for it: a struct per global element with its
// streaming encoder and decoder, the action constants, a typed service
// interface registered on a nettcp.Service, and a typed client.
//
// Supported: global elements whose type is an anonymous complexType with a
// sequence of local elements of xsd int, unsignedInt, long, unsignedLong,
// short, unsignedShort, byte, unsignedByte, boolean and string, minOccurs 0
// or 1 (an absent value reads as zero); document/literal operations with
// one-part messages; wsaw:Action on inputs, outputs and faults. Anything
// else is reported by name and line.
package wsdlgen

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Namespaces the generator understands.
const (
	nsWSDL = "http://schemas.xmlsoap.org/wsdl/"
	nsXSD  = "http://www.w3.org/2001/XMLSchema"
	nsWSAW = "http://www.w3.org/2006/05/addressing/wsdl"
	nsWSAM = "http://www.w3.org/2007/05/addressing/metadata"
)

// node is an element of the document, with its line.
type node struct {
	name     xml.Name
	attrs    []xml.Attr
	children []*node
	line     int
	ns       map[string]string // prefixes in scope, for QName values
}

func (n *node) attr(local string) string {
	for _, a := range n.attrs {
		if a.Name.Local == local && (a.Name.Space == "" || a.Name.Space == n.name.Space) {
			return a.Value
		}
	}
	return ""
}

// attrNS returns the value of an attribute in one of the namespaces.
func (n *node) attrNS(local string, spaces ...string) string {
	for _, a := range n.attrs {
		for _, s := range spaces {
			if a.Name.Local == local && a.Name.Space == s {
				return a.Value
			}
		}
	}
	return ""
}

func (n *node) is(space, local string) bool { return n.name.Space == space && n.name.Local == local }

// qname resolves a QName attribute value ("tns:PurchaseOrder").
func (n *node) qname(v string) xml.Name {
	prefix, local := "", v
	if i := strings.IndexByte(v, ':'); i >= 0 {
		prefix, local = v[:i], v[i+1:]
	}
	return xml.Name{Space: normalizeNS(n.ns[prefix]), Local: local}
}

// normalizeNS maps the https:// spellings of the standard namespaces (as
// some published copies of WSDLs have them) to the real http:// ones.
func normalizeNS(s string) string {
	if strings.HasPrefix(s, "https://") {
		h := "http://" + s[len("https://"):]
		switch h {
		case nsWSDL, nsXSD, nsWSAW, nsWSAM, "http://schemas.xmlsoap.org/wsdl/soap/", "http://schemas.xmlsoap.org/wsdl/soap12/":
			return h
		}
	}
	return s
}

// parseTree reads the whole document into nodes with line numbers.
func parseTree(src []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(src))
	var stack []*node
	var root *node
	for {
		line, _ := d.InputPos()
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{line: line, ns: map[string]string{}}
			if len(stack) > 0 {
				for k, v := range stack[len(stack)-1].ns {
					n.ns[k] = v
				}
			}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns":
					n.ns[a.Name.Local] = a.Value
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					n.ns[""] = a.Value
				}
			}
			n.name = xml.Name{Space: normalizeNS(n.ns[t.Name.Space]), Local: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				an := a.Name
				if an.Space != "" {
					an.Space = normalizeNS(n.ns[an.Space])
				}
				n.attrs = append(n.attrs, xml.Attr{Name: an, Value: a.Value})
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	return root, nil
}
